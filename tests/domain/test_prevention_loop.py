"""The prevention loop's figures from plain facts (domain.prevention_loop)."""

from __future__ import annotations

import pytest

from domain.prevention_loop import Answered, band_of, calibration, prevention_loop


def test_bands_hold_the_mean_predicted_beside_the_share_denied() -> None:
    bands = calibration([(0.05, False), (0.08, True), (0.95, True), (1.0, True), (0.55, False)])
    assert [(b.label, b.claims) for b in bands] == [("0%-10%", 2), ("50%-60%", 1), ("90%-100%", 2)]
    low, middle, high = bands
    assert low.mean_predicted == pytest.approx(0.065) and low.denied_share == 0.5
    assert (middle.mean_predicted, middle.denied_share) == (0.55, 0.0)
    assert high.mean_predicted == pytest.approx(0.975) and high.denied_share == 1.0


def test_a_certain_denial_falls_in_the_top_band() -> None:
    assert (band_of(0.0), band_of(0.0999), band_of(0.1), band_of(1.0)) == (0, 0, 1, 9)


def test_the_loop_counts_clean_claims_scored_claims_and_what_edits_flagged() -> None:
    loop = prevention_loop(
        [
            Answered(probability=0.9, denied=True, flagged_by_edit=True),
            Answered(probability=0.2, denied=False, flagged_by_edit=True),
            Answered(probability=None, denied=False, flagged_by_edit=False),
            Answered(probability=0.1, denied=False, flagged_by_edit=False),
        ],
        blocked=3,
        warned=2,
    )
    assert (loop.answered, loop.clean_first_pass, loop.first_pass_rate) == (4, 3, 0.75)
    assert loop.scored == 3
    assert loop.mean_predicted == pytest.approx(0.4)
    assert loop.denied_share_of_scored == pytest.approx(1 / 3)
    assert (loop.edits.blocked, loop.edits.warned) == (3, 2)
    assert (loop.edits.flagged_then_denied, loop.edits.flagged_then_paid) == (1, 1)


def test_nothing_answered_gives_no_rates() -> None:
    loop = prevention_loop([], blocked=0, warned=0)
    assert (loop.first_pass_rate, loop.mean_predicted, loop.bands) == (None, None, ())
