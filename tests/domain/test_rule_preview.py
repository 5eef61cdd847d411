"""What a new payer rule version would change, before it is saved: only the open, triaged
cases the version would govern when recounted once in force, and of those only the deadlines
that move; the versions grouped per payer (in force, scheduled)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.case import CasePolicy, CaseState, CaseStatus, case_deadlines
from domain.deadlines import DeadlineExtension, DeadlineKind
from domain.models import Payer, PayerType
from domain.payer_rules import PayerRule, PayerRuleRegistry, load_registry
from domain.rule_preview import deadline_changes, preview, recount_day, rules_per_payer
from testkit.records import make_record

TODAY = date(2025, 6, 2)
NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
ACME = Payer(payer_id="ACME1", name="Acme Health", type=PayerType.COMMERCIAL)


def registry_with(*rules: dict[str, Any]) -> PayerRuleRegistry:
    return load_registry(None, [("admin", {"rule": list(rules)})])


def acme(start: date, appeal_days: int = 90, **changes: Any) -> dict[str, Any]:
    return {
        "id": f"acme-{start.isoformat()}",
        "payer_id": "ACME1",
        "based_on": "commercial-erisa",
        "effective_from": start.isoformat(),
        "source": "Acme manual",
        "appeal_levels": [{"level": 1, "name": "Reconsideration", "filing_days": appeal_days}],
        **changes,
    }


def open_case(
    rule: PayerRule,
    case_id: str = "case-1",
    status: CaseStatus = CaseStatus.TRIAGED,
    payer: Payer = ACME,
    extensions: list[DeadlineExtension] | None = None,
) -> CaseState:
    """A triaged case whose deadlines were counted from `rule` (as the workflow does)."""
    state = CaseState(
        case_id=case_id,
        record=make_record(TODAY, payer=payer, remit_days_ago=5),
        policy=CasePolicy(),
        status=status,
        rule=rule,
        extensions=extensions or [],
        created_at=NOW,
        updated_at=NOW,
    )
    state.deadlines = case_deadlines(state, rule)
    return state


def commercial(registry: PayerRuleRegistry) -> PayerRule:
    return registry.rule_for("NOBODY", PayerType.COMMERCIAL, TODAY)


def test_an_open_case_of_the_payer_shows_its_appeal_deadline_moving() -> None:
    """A 90-day appeal for Acme in force today: the Acme case counted from the commercial
    default (180 days) would move its level-1 appeal deadline by 90 days, and only that one
    (timely filing and the corrected-claim window are inherited unchanged)."""
    registry = registry_with(acme(TODAY))
    version = registry.rules_in_order[-1]
    state = open_case(commercial(registry))
    remittance = TODAY - timedelta(days=5)
    [change] = deadline_changes(state, registry, version, TODAY) or []
    assert (change.case_id, change.payer_id, change.deadline) == (
        "case-1",
        "ACME1",
        "Appeal level 1",
    )
    assert change.current_due == remittance + timedelta(days=180)
    assert change.new_due == remittance + timedelta(days=90)


def test_cases_the_version_would_not_govern_are_left_out() -> None:
    """Closed and not yet triaged cases are never recounted; another payer's case is governed
    by its own rule or type default; an Acme case is left out while an older Acme version is
    still the newest in effect on the recount day."""
    registry = registry_with(acme(TODAY))
    version = registry.rules_in_order[-1]
    default = commercial(registry)
    other = Payer(payer_id="OTHER", name="Other", type=PayerType.COMMERCIAL)
    assert (
        deadline_changes(open_case(default, status=CaseStatus.CLOSED), registry, version, TODAY)
        is None
    )
    received = open_case(default, status=CaseStatus.RECEIVED)
    assert deadline_changes(received, registry, version, TODAY) is None
    assert deadline_changes(open_case(default, payer=other), registry, version, TODAY) is None
    assert (
        deadline_changes(open_case(default), registry, version, TODAY - timedelta(days=1)) is None
    )


def test_a_case_already_on_an_equal_rule_is_governed_but_nothing_moves() -> None:
    registry = registry_with(acme(TODAY - timedelta(days=30)), acme(TODAY, id="acme-same"))
    earlier, version = registry.rules_in_order[-2:]
    assert deadline_changes(open_case(earlier), registry, version, TODAY) == []
    result = preview([open_case(earlier)], registry, version, TODAY)
    assert (result.cases_governed, result.changes) == (1, [])


def test_an_extended_deadline_keeps_its_extension() -> None:
    """An extension recorded on the appeal deadline replaces its date under any rule: the
    recount leaves it where it is."""
    registry = registry_with(acme(TODAY))
    version = registry.rules_in_order[-1]
    extended = DeadlineExtension(
        kind=DeadlineKind.APPEAL,
        level=1,
        new_due=date(2026, 1, 5),
        reason="agreed",
        recorded_by="sam",
    )
    state = open_case(commercial(registry), extensions=[extended])
    assert deadline_changes(state, registry, version, TODAY) == []


def test_a_future_version_is_previewed_for_its_effective_date() -> None:
    """A version effective in 30 days: a recount before then keeps today's rule, so the
    preview counts for its effective date; dropped appeal levels show as no new date."""
    start = TODAY + timedelta(days=30)
    two_levels = acme(TODAY - timedelta(days=60), appeal_days=120)
    two_levels["appeal_levels"].append({"level": 2, "name": "Second", "filing_days": 60})
    registry = registry_with(two_levels, acme(start, appeal_days=45))
    before, version = registry.rules_in_order[-2:]
    assert recount_day(version, TODAY) == start
    assert recount_day(version, start + timedelta(days=3)) == start + timedelta(days=3)
    state = open_case(before)
    state.appeal_notice_dates = {2: TODAY - timedelta(days=2)}  # level 1 decided, upheld
    state.deadlines = case_deadlines(state, before)
    result = preview(
        [state, open_case(before, "case-2", CaseStatus.CLOSED)], registry, version, TODAY
    )
    assert (result.recount_on, result.cases_governed) == (start, 1)
    remittance = TODAY - timedelta(days=5)
    assert [(c.deadline, c.current_due, c.new_due) for c in result.changes] == [
        ("Appeal level 1", remittance + timedelta(days=120), remittance + timedelta(days=45)),
        ("Appeal level 2", TODAY + timedelta(days=58), None),
    ]


def test_versions_grouped_per_payer_in_force_and_scheduled() -> None:
    registry = registry_with(
        acme(TODAY - timedelta(days=60)),
        acme(TODAY - timedelta(days=1)),
        acme(TODAY + timedelta(days=30)),
    )
    groups = {group.applies_to: group for group in rules_per_payer(registry.rules, TODAY)}
    assert list(groups)[:5] == ["commercial", "medicaid", "medicare", "medicare_advantage", "other"]
    assert list(groups)[-2:] == ["87726", "ACME1"]
    mine = groups["ACME1"]
    assert (mine.by_payer_id, groups["commercial"].by_payer_id) == (True, False)
    assert mine.current is not None and mine.current.effective_from == TODAY - timedelta(days=1)
    assert [rule.effective_from for rule in mine.scheduled] == [TODAY + timedelta(days=30)]
    assert mine.superseded == 1
    assert groups["commercial"].current is not None
    assert groups["commercial"].current.id == "commercial-erisa"
    assert (groups["commercial"].scheduled, groups["commercial"].superseded) == ([], 0)
    early = rules_per_payer(registry.rules, date(2024, 1, 1))
    assert all(group.current is None for group in early)
