"""How well the pre-submission check did (issue 18): of the checked claims the payer has since
answered, how many went through clean the first time, whether the predicted denial rate
matched the actual one (per band of predicted risk: a calibration chart), and what the
prevention edits caught.

Pure: the facts come in as plain values (db.check_outcomes reads them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BANDS = 10  # predicted risk in bands of 10 points: 0-10%, 10-20%, ... 90-100%


@dataclass(frozen=True)
class Answered:
    """One checked claim the payer answered: what the check predicted and said, and the
    answer."""

    probability: float | None  # None: no model was active when it was checked
    denied: bool
    flagged_by_edit: bool  # a prevention edit warned about it, or blocked it, and it went anyway


@dataclass(frozen=True)
class CalibrationBand:
    low: float
    high: float
    claims: int
    mean_predicted: float
    denied_share: float

    @property
    def label(self) -> str:
        return f"{self.low:.0%}-{self.high:.0%}"


@dataclass(frozen=True)
class EditCatches:
    blocked: int  # claims an edit blocked: held back before they could be denied
    warned: int  # claims an edit warned about
    flagged_then_denied: int  # went out despite an edit, and were denied
    flagged_then_paid: int


@dataclass(frozen=True)
class PreventionLoop:
    answered: int
    clean_first_pass: int
    scored: int  # answered claims a model had scored
    mean_predicted: float | None
    denied_share_of_scored: float | None
    bands: tuple[CalibrationBand, ...]
    edits: EditCatches

    @property
    def first_pass_rate(self) -> float | None:
        """The clean-claim rate: answered claims not denied the first time."""
        return self.clean_first_pass / self.answered if self.answered else None


def band_of(probability: float) -> int:
    return min(int(probability * BANDS), BANDS - 1)


def calibration(pairs: Iterable[tuple[float, bool]]) -> tuple[CalibrationBand, ...]:
    """Mean predicted probability beside the share actually denied, per band of predicted
    risk; only bands that hold claims."""
    totals: dict[int, list[float]] = {}  # band -> [claims, sum predicted, denied]
    for probability, denied in pairs:
        band = totals.setdefault(band_of(probability), [0, 0.0, 0])
        band[0] += 1
        band[1] += probability
        band[2] += denied
    return tuple(
        CalibrationBand(
            low=index / BANDS,
            high=(index + 1) / BANDS,
            claims=int(claims),
            mean_predicted=predicted / claims,
            denied_share=denied / claims,
        )
        for index, (claims, predicted, denied) in sorted(totals.items())
    )


def prevention_loop(answered: Iterable[Answered], blocked: int, warned: int) -> PreventionLoop:
    """The loop's figures from the answered checked claims and the edits' counts of the
    period (`blocked` / `warned`: checked claims an edit blocked or warned about)."""
    claims = list(answered)
    scored = [(c.probability, c.denied) for c in claims if c.probability is not None]
    flagged = [c for c in claims if c.flagged_by_edit]
    return PreventionLoop(
        answered=len(claims),
        clean_first_pass=sum(not c.denied for c in claims),
        scored=len(scored),
        mean_predicted=sum(p for p, _ in scored) / len(scored) if scored else None,
        denied_share_of_scored=sum(d for _, d in scored) / len(scored) if scored else None,
        bands=calibration(scored),
        edits=EditCatches(
            blocked=blocked,
            warned=warned,
            flagged_then_denied=sum(c.denied for c in flagged),
            flagged_then_paid=sum(not c.denied for c in flagged),
        ),
    )
