"""The prevention loop's figures for a period (issue 18): clean-claim rate of the checked
claims the payer answered, predicted against actual denial rate per band of risk, and what the
prevention edits caught. Aggregates only: no claim is named."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from pydantic import BaseModel, Field
from sqlmodel import Session

from db.check_outcomes import answered_between, edit_flags_between
from domain.prevention_loop import prevention_loop
from services.analytics import Period


class CalibrationBandOut(BaseModel):
    label: str = Field(description="Band of predicted denial probability, e.g. 20%-30%")
    claims: int
    mean_predicted: float
    denied_share: float


class EditCatchesOut(BaseModel):
    blocked: int = Field(description="Checked claims a prevention edit blocked")
    warned: int = Field(description="Checked claims a prevention edit warned about")
    flagged_then_denied: int = Field(description="Flagged by an edit, sent anyway, denied")
    flagged_then_paid: int


class PreventionLoopOut(BaseModel):
    period: Period
    answered: int = Field(description="Checked claims an 835 answered in the period")
    clean_first_pass: int = Field(description="Of those, not denied the first time")
    first_pass_rate: float | None = Field(description="Share of those not denied the first time")
    scored: int = Field(description="Answered claims a risk model had scored")
    mean_predicted: float | None
    denied_share_of_scored: float | None
    bands: list[CalibrationBandOut]
    edits: EditCatchesOut


def prevention_loop_figures(session: Session, period: Period) -> PreventionLoopOut:
    start = datetime.combine(period.since, time(), UTC)
    end = datetime.combine(period.until + timedelta(days=1), time(), UTC)
    blocked, warned = edit_flags_between(session, start, end)
    loop = prevention_loop(answered_between(session, start, end), blocked, warned)
    return PreventionLoopOut(
        period=period,
        answered=loop.answered,
        clean_first_pass=loop.clean_first_pass,
        first_pass_rate=loop.first_pass_rate,
        scored=loop.scored,
        mean_predicted=loop.mean_predicted,
        denied_share_of_scored=loop.denied_share_of_scored,
        bands=[
            CalibrationBandOut(
                label=band.label,
                claims=band.claims,
                mean_predicted=band.mean_predicted,
                denied_share=band.denied_share,
            )
            for band in loop.bands
        ],
        edits=EditCatchesOut(
            blocked=loop.edits.blocked,
            warned=loop.edits.warned,
            flagged_then_denied=loop.edits.flagged_then_denied,
            flagged_then_paid=loop.edits.flagged_then_paid,
        ),
    )
