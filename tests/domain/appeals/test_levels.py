"""The appeal level chain: each level's deadline counts from the previous level's decision,
and a level with a minimum amount in dispute refuses a smaller claim."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.case import next_appeal_problem
from domain.deadlines import appeal_deadline
from domain.models import PayerType
from domain.payer_rules import PayerRule
from domain.rulebook import Rulebook


def _rule(rulebook: Rulebook, payer_type: PayerType) -> PayerRule:
    return rulebook.registry.rule_for("X", payer_type, date(2026, 3, 1))


def test_medicare_chain_counts_each_level_from_the_previous_decision(rulebook: Rulebook) -> None:
    rule = _rule(rulebook, PayerType.MEDICARE)
    today = date(2026, 3, 1)
    remittance = date(2026, 2, 2)
    # Level 1: 120 days from the remittance, received 5 days after its date.
    assert appeal_deadline(rule, 1, remittance).due == remittance + timedelta(days=5 + 120)
    decision = date(2026, 2, 20)
    expected_days = {2: 180, 3: 60, 4: 60, 5: 60}
    for level, filing_days in expected_days.items():
        deadline = appeal_deadline(rule, level, decision)
        assert deadline is not None
        assert deadline.due == decision + timedelta(days=5 + filing_days), level
        assert f"level {level - 1} decision" in deadline.basis
        # A later decision moves the next level's deadline by as much.
        later = appeal_deadline(rule, level, decision + timedelta(days=30))
        assert later is not None and later.due == deadline.due + timedelta(days=30)
        assert next_appeal_problem(rule, level, Decimal(5000), decision, today) is None


def test_minimum_amount_in_dispute_is_checked(rulebook: Rulebook) -> None:
    rule = _rule(rulebook, PayerType.MEDICARE)
    decision = today = date(2026, 3, 1)
    assert next_appeal_problem(rule, 3, Decimal("189.99"), decision, today) == (
        "level 3 (ALJ hearing) needs at least $190 in dispute; this case has $189.99"
    )
    assert next_appeal_problem(rule, 3, Decimal(190), decision, today) is None
    assert "needs at least $1900" in (
        next_appeal_problem(rule, 5, Decimal(1000), decision, today) or ""
    )


def test_chain_ends_after_the_last_level_and_a_missed_deadline(rulebook: Rulebook) -> None:
    rule = _rule(rulebook, PayerType.COMMERCIAL)
    decision = date(2026, 1, 1)
    assert next_appeal_problem(rule, 3, Decimal(100), decision, decision) == (
        "no appeal level 3 for this payer (commercial-erisa): appeals exhausted"
    )
    too_late = decision + timedelta(days=61)
    assert next_appeal_problem(rule, 2, Decimal(100), decision, too_late) == (
        "the level 2 filing deadline passed on 2026-03-02"
    )
