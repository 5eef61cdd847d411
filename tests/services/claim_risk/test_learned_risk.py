"""The learned risk on a synthetic history (the quality check of bench/claim_risk.py, smaller):
trained on ten months, it ranks the last two well, finds every planted behaviour, and explains
each with the history's own counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from domain.claim_checks.findings import (
    ClaimUnderCheck,
    FindingKind,
    LineUnderCheck,
    Severity,
)
from services.claim_risk.history import NotEnoughHistory
from services.claim_risk.model import RiskModel, train
from services.claim_risk.scoring import RiskScorer
from testkit.claim_history import BEHAVIOURS, History, explains, generate_history

CUTOFF = date(2025, 11, 1)  # ten months in, two to evaluate


@pytest.fixture(scope="module")
def trained() -> tuple[RiskModel, History]:
    history = generate_history(30_000, seed=11)
    before, after = history.split(CUTOFF)
    return train(before.lines), after


def test_the_history_denies_eight_to_twelve_percent_with_every_behaviour_planted() -> None:
    history = generate_history(10_000, seed=3)
    rate = sum(line.denied for line in history.lines) / len(history.lines)
    assert 0.08 <= rate <= 0.12
    assert set(history.planted) - {""} == set(BEHAVIOURS)
    assert generate_history(500, seed=3).lines == generate_history(500, seed=3).lines


def test_ranks_the_last_two_months_and_finds_the_planted_behaviours(
    trained: tuple[RiskModel, History],
) -> None:
    model, after = trained
    risk = model.line_probabilities(after.lines)
    denied = np.array([line.denied for line in after.lines])
    assert roc_auc_score(denied, risk) >= 0.85
    planted = np.array([name != "" for name in after.planted])
    # The lowest threshold at which at least 70% of the lines flagged are denied.
    order = np.argsort(-risk)
    precision = np.cumsum(denied[order]) / np.arange(1, len(order) + 1)
    deepest = np.nonzero(precision >= 0.7)[0].max()
    flagged = np.zeros(len(risk), dtype=bool)
    flagged[order[: deepest + 1]] = True
    assert flagged[planted].mean() >= 0.9
    for name in BEHAVIOURS:
        lines = [i for i, found in enumerate(after.planted) if found == name]
        assert lines, name
        assert flagged[lines].mean() >= 0.8, name


def test_each_planted_behaviour_is_explained_with_counts_from_the_history(
    trained: tuple[RiskModel, History],
) -> None:
    model, after = trained
    for name in BEHAVIOURS:
        lines = [
            line for line, found in zip(after.lines, after.planted, strict=True) if found == name
        ]
        explained = [model.evidence.factors(line) for line in lines]
        texts = [factors[0].text for factors in explained if factors]
        assert len(texts) >= 0.9 * len(lines), name
        assert all(explains(name, text) for text in texts), (name, texts[:3])


def test_the_counts_quoted_are_the_histories_own(trained: tuple[RiskModel, History]) -> None:
    model, after = trained
    line = next(
        line for line, found in zip(after.lines, after.planted, strict=True) if found == "modifier"
    )
    text = model.evidence.factors(line)[0].text
    since = model.evidence.as_of.toordinal() - 180
    history = generate_history(30_000, seed=11).split(CUTOFF)[0].lines
    group = [
        item
        for item in history
        if item.payer_id == "UHC"
        and item.procedure_code == "97110"
        and item.modifiers == line.modifiers
        and item.service_date.toordinal() > since
    ]
    denied = sum(item.denied for item in group)
    assert f"in {denied} of {len(group)} lines in the last 180 days" in text


def _claim(*lines: LineUnderCheck, payer: str = "UHC") -> ClaimUnderCheck:
    return ClaimUnderCheck(
        claim_id="PCN-1",
        payer_id=payer,
        payer_name="UnitedHealthcare",
        rendering_npi="1467500003",
        place_of_service="11",
        diagnosis_codes=("M54.5",),
        prior_authorization="AUTH1",
        service_date_from=date(2025, 12, 1),
        lines=lines,
    )


def test_the_scorer_warns_on_the_line_and_says_why(trained: tuple[RiskModel, History]) -> None:
    model, _ = trained
    scorer = RiskScorer(model, "risk-v3")
    risky = LineUnderCheck(
        line_number=2, procedure_code="97110", units=Decimal(2), charge=Decimal(120)
    )
    visit = LineUnderCheck(line_number=1, procedure_code="99213", charge=Decimal(110))
    fine = risky.model_copy(update={"modifiers": ("GP",)})
    bad, good = scorer.assess([_claim(visit, risky), _claim(visit, fine)])
    [finding] = [f for f in bad.findings if f.severity is Severity.WARN]
    assert finding.kind is FindingKind.LEARNED_RISK
    assert finding.line_number == 2 and finding.code == "risk-v3"
    assert "without modifier GP" in finding.evidence and "mostly CO-4" in finding.evidence
    assert "modifier GP" in finding.fix
    assert finding.message.startswith("Line 2 (97110) is likely to be denied: ")
    assert finding.probability is not None and finding.probability >= 0.5
    assert bad.probability >= finding.probability
    assert good.probability < 0.5
    assert not [f for f in good.findings if f.severity is Severity.WARN]
    assert scorer.assess([]) == []


def test_the_model_survives_its_bytes(trained: tuple[RiskModel, History]) -> None:
    model, after = trained
    again = RiskModel.from_bytes(model.to_bytes())
    sample = after.lines[:500]
    assert np.allclose(again.line_probabilities(sample), model.line_probabilities(sample))


def test_too_little_history_is_refused_in_words() -> None:
    lines = generate_history(50, seed=1).lines
    with pytest.raises(NotEnoughHistory, match="at least 200 lines"):
        train(lines)
    paid = [line for line in generate_history(300, seed=1).lines if not line.denied]
    with pytest.raises(NotEnoughHistory, match="some denied and some paid"):
        train(paid)
