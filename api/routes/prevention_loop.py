"""The prevention loop's figures (issue 18): what the pre-submission check predicted and what
the payers then said, and what the prevention edits caught."""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import ERROR_RESPONSES
from api.routes.analytics import DEFAULT_PERIOD_DAYS, SinceQuery, UntilQuery
from app.deps import CaseReader, SessionDep
from services.analytics import Period
from services.prevention_loop import PreventionLoopOut, prevention_loop_figures

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"], responses=ERROR_RESPONSES)


@router.get("/prevention-loop")
def prevention_loop(
    session: SessionDep, actor: CaseReader, since: SinceQuery = None, until: UntilQuery = None
) -> PreventionLoopOut:
    """Of the checked claims an 835 answered in the period (by the day the answer was
    recorded): the clean-claim (first-pass) rate, the mean predicted denial probability beside
    the share denied, per band of predicted risk (calibration), and the claims the prevention
    edits blocked or warned about (by the day they were checked), with what became of those
    sent anyway."""
    return prevention_loop_figures(session, Period.of(since, until, DEFAULT_PERIOD_DAYS))
