"""Did a prevention item work? The pattern's denial rate in the window after it was done,
against the same-length window before.

A rate (denials of the pattern / claims the payer or provider had adjudicated) rather than a
count, so that a quieter month does not pass for a fix. When the item carries prevention edits,
the claims they caught before sending are shown beside it: a low rate after with no hits is the
upstream fix working, a low rate with many hits is the edit holding the pattern back.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Window(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: date
    end: date  # inclusive


class RecurrenceWindow(Window):
    denials: int
    claims: int

    @property
    def rate(self) -> float | None:
        return self.denials / self.claims if self.claims else None


Verdict = Literal["improved", "unchanged", "worse", "too_early", "no_baseline"]


class Effectiveness(BaseModel):
    model_config = ConfigDict(frozen=True)

    completed_on: date
    before: RecurrenceWindow
    after: RecurrenceWindow
    before_rate: float | None
    after_rate: float | None
    verdict: Verdict
    # Claims (or lines) the item's prevention edits caught before they were sent, all versions
    # since written; None when the item has no edit.
    edit_hits: int | None = None


def comparison_windows(completed_on: date, window_days: int, today: date) -> tuple[Window, Window]:
    """The `window_days` before the day it was done, and from that day up to `window_days` on
    (cut at today: a recent fix is measured over what has happened so far)."""
    before = Window(
        start=completed_on - timedelta(days=window_days), end=completed_on - timedelta(days=1)
    )
    after_end = min(completed_on + timedelta(days=window_days - 1), today)
    return before, Window(start=completed_on, end=max(after_end, completed_on))


def effectiveness(
    completed_on: date,
    before: RecurrenceWindow,
    after: RecurrenceWindow,
    tolerance: float = 0.0,
    edit_hits: int | None = None,
) -> Effectiveness:
    """Compare the rates: with no claims adjudicated since completion it is too early to say,
    with none before there is nothing to compare against. The edits' hits do not change the
    verdict: a claim caught and corrected before sending is not among the denials after."""
    before_rate, after_rate = before.rate, after.rate
    verdict: Verdict
    if after_rate is None:
        verdict = "too_early"
    elif before_rate is None:
        verdict = "no_baseline"
    elif after_rate > before_rate + tolerance:
        verdict = "worse"
    elif after_rate < before_rate - tolerance:
        verdict = "improved"
    else:
        verdict = "unchanged"
    return Effectiveness(
        completed_on=completed_on,
        before=before,
        after=after,
        before_rate=before_rate,
        after_rate=after_rate,
        verdict=verdict,
        edit_hits=edit_hits,
    )
