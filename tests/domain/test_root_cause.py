from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.case import RootCause, prevention_key
from domain.categories import OwningTeam, load_category_profiles
from domain.models import Category, DenialRecord, ServiceLine
from domain.root_cause import (
    DenialFact,
    PatternKey,
    PatternKind,
    PatternTally,
    PatternThresholds,
    analyse,
    denial_procedure_code,
    recommended_action,
)
from domain.rulebook import Rulebook
from testkit.records import adj, make_claim

TODAY = date(2026, 11, 1)
THRESHOLDS = PatternThresholds(window_days=90, payer_carc=5, provider_carc=3, procedure_payer=4)


def fact(n: int, days_ago: int = 10, **changes: object) -> DenialFact:
    values: dict[str, object] = {
        "case_id": f"case-{n}",
        "payer_id": "P1",
        "provider_npi": "1111111111",
        "carc": "CO-197",
        "procedure_code": "70553",
        "denied_amount": Decimal(100),
        "denied_on": TODAY - timedelta(days=days_ago),
    }
    values.update(changes)
    return DenialFact.model_validate(values)


CURRENT = fact(0, days_ago=0)


PAYER_CARC = "payer_carc|P1|CO-197"
PROVIDER_CARC = "provider_carc|1111111111|CO-197"
PROCEDURE_PAYER = "procedure_payer|70553|P1"


def others(**counts: int) -> dict[str, PatternTally]:
    keys = {"payer": PAYER_CARC, "provider": PROVIDER_CARC, "procedure": PROCEDURE_PAYER}
    return {
        keys[name]: PatternTally(count=count, dollars=Decimal(100 * count))
        for name, count in counts.items()
    }


def test_payer_carc_at_threshold_is_a_pattern_below_is_not() -> None:
    """Four other denials plus the current one reach payer + CARC's threshold of 5; three do
    not. The current denial's dollars are added to the others'."""
    at = analyse(CURRENT, others(payer=4, provider=1, procedure=1), THRESHOLDS, TODAY)
    below = analyse(CURRENT, others(payer=3, provider=1, procedure=1), THRESHOLDS, TODAY)

    assert at.verdict == "pattern"
    assert at.primary is not None and at.primary.key == PAYER_CARC
    assert at.primary.count == 5 and at.primary.dollars == Decimal(500)
    assert below.verdict == "one_off" and below.primary is None
    assert below.counts == {PROCEDURE_PAYER: 2, PROVIDER_CARC: 2, PAYER_CARC: 4}


def test_most_specific_pattern_comes_first() -> None:
    analysis = analyse(CURRENT, others(payer=5, provider=5, procedure=5), THRESHOLDS, TODAY)
    assert [m.pattern.kind for m in analysis.patterns] == [
        PatternKind.PROCEDURE_PAYER,
        PatternKind.PROVIDER_CARC,
        PatternKind.PAYER_CARC,
    ]
    assert analysis.summary().startswith("pattern: 6 denials in 90 days for procedure 70553")


def test_no_other_denials_is_a_one_off() -> None:
    analysis = analyse(CURRENT, {}, THRESHOLDS, TODAY)
    assert analysis.verdict == "one_off"
    assert analysis.counts == {PROCEDURE_PAYER: 1, PROVIDER_CARC: 1, PAYER_CARC: 1}
    assert analysis.summary() == "one-off: no pattern at threshold in the last 90 days"


def test_missing_fields_rule_out_their_patterns() -> None:
    bare = fact(0, days_ago=0, carc="", procedure_code="")
    analysis = analyse(bare, others(payer=9, provider=9, procedure=9), THRESHOLDS, TODAY)
    assert analysis.verdict == "one_off" and analysis.counts == {}


@pytest.mark.parametrize(
    "key",
    ["payer_carc|P1|CO-197", "provider_carc|1234567890|CO-4", "procedure_payer|99213|P1"],
)
def test_pattern_key_round_trips(key: str) -> None:
    parsed = PatternKey.parse(key)
    assert parsed is not None and parsed.key == key


@pytest.mark.parametrize("key", ["P1|coding|co-4: modifier", "payer_carc|P1", "nonsense"])
def test_one_off_grouping_keys_are_not_patterns(key: str) -> None:
    assert PatternKey.parse(key) is None


def test_prevention_groups_by_the_confirmed_pattern_only() -> None:
    root = RootCause(
        cause="CO-197: auth absent",
        owning_team=OwningTeam.PRIOR_AUTHORIZATION,
        pattern=True,
        pattern_key="payer_carc|P1|CO-197",
    )
    assert prevention_key("P1", Category.AUTHORIZATION, root) == "payer_carc|P1|CO-197"
    one_off = root.model_copy(update={"pattern": False})
    assert prevention_key("P1", Category.AUTHORIZATION, one_off) == (
        "P1|authorization|co-197: auth absent"
    )


def test_recommended_action_names_the_pattern() -> None:
    profile = load_category_profiles()[Category.AUTHORIZATION]
    pattern = PatternKey.parse("procedure_payer|70553|P1")
    action = recommended_action(profile, pattern, "Acme Health")
    assert action.startswith("Add payer Acme Health / procedure 70553 to the prior-auth checklist.")
    assert action.endswith(profile.recommended_action)
    assert recommended_action(profile, None, "Acme Health") == profile.recommended_action


def test_every_category_maps_to_a_team_and_a_pattern_action() -> None:
    for profile in load_category_profiles().values():
        assert profile.owning_team in OwningTeam
        assert "{" in profile.pattern_action  # names something from the pattern


def test_procedure_is_the_denied_line(rulebook: Rulebook) -> None:
    lines = [
        ServiceLine(
            line_number=1,
            procedure_code="99213",
            billed_amount=Decimal(100),
            paid_amount=Decimal(80),
            adjustments=[adj("CO-45", 20)],
        ),
        ServiceLine(
            line_number=2,
            procedure_code="70553",
            billed_amount=Decimal(900),
            adjustments=[adj("CO-197", 900)],
        ),
    ]
    claim = make_claim(TODAY, lines=lines, adjustments=[], billed=1000, paid=80, status="1")
    classification = rulebook.classify(DenialRecord(claim=claim))
    assert denial_procedure_code(claim, classification) == "70553"
