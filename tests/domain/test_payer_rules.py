"""Payer rules registry: rule selection, effective dates, override files and file errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.models import PayerType
from domain.payer_rules import (
    PayerRule,
    PayerRuleRegistry,
    RulesFileError,
    load_registry,
    parse_rules,
)

AS_OF = date(2025, 6, 1)

LEVELS = """appeal_levels = [
  { level = 1, name = "Appeal", filing_days = 45, decision_days = 30 },
]"""


def write(tmp_path: Path, text: str, name: str = "customer_rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def type_rule(payer_type: PayerType, rule_id: str | None = None, **extra: object) -> PayerRule:
    return PayerRule.model_validate(
        {
            "id": rule_id or payer_type.value,
            "payer_type": payer_type,
            "effective_from": date(2025, 1, 1),
            "source": "test",
            "timely_filing": {"days": 90},
            "corrected_claim": {"days": 90},
            "appeal_levels": [{"level": 1, "name": "Appeal", "filing_days": 60}],
            **extra,
        }
    )


@pytest.fixture(scope="module")
def registry() -> PayerRuleRegistry:
    return load_registry()


# --- selection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payer_type", "rule_id"),
    [
        (PayerType.MEDICARE, "medicare-ffs"),
        (PayerType.MEDICARE_ADVANTAGE, "medicare-advantage"),
        (PayerType.MEDICAID, "medicaid"),
        (PayerType.COMMERCIAL, "commercial-erisa"),
        (PayerType.OTHER, "other"),
    ],
)
def test_payer_type_default_applies_without_a_payer_specific_rule(
    payer_type: PayerType, rule_id: str, registry: PayerRuleRegistry
) -> None:
    """A payer with no rule of its own gets its payer type's default."""
    assert registry.rule_for("NO-SUCH-PAYER", payer_type, AS_OF).id == rule_id


@pytest.mark.parametrize("payer_type", list(PayerType))
def test_payer_id_rule_wins_over_the_payer_type(
    payer_type: PayerType, registry: PayerRuleRegistry
) -> None:
    """Selection is by payer id first: 87726 is UnitedHealthcare whatever type it is filed as."""
    chosen = registry.rule_for("87726", payer_type, AS_OF)
    assert chosen.id == "unitedhealthcare"
    assert chosen.payer_id == "87726"
    assert chosen.payer_type is None
    assert chosen.appeal_levels[0].filing_days == 65


def test_payer_id_match_is_exact(registry: PayerRuleRegistry) -> None:
    """A payer id that merely resembles 87726 falls back to its type."""
    assert registry.rule_for("877260", PayerType.COMMERCIAL, AS_OF).id == "commercial-erisa"


def test_shipped_medicare_levels(registry: PayerRuleRegistry) -> None:
    """The shipped Medicare rule has the five levels of the reference with their minimums."""
    medicare = registry.rule_for("X", PayerType.MEDICARE, AS_OF)
    assert [
        (lvl.level, lvl.filing_days, lvl.decision_days, lvl.minimum_in_dispute)
        for lvl in medicare.appeal_levels
    ] == [
        (1, 120, 60, Decimal(0)),
        (2, 180, 60, Decimal(0)),
        (3, 60, 90, Decimal(190)),
        (4, 60, 90, Decimal(0)),
        (5, 60, None, Decimal(1900)),
    ]
    assert medicare.max_appeal_level == 5
    assert medicare.presumed_receipt_days == 5
    assert medicare.timely_filing.months == 12


# --- effective dates and override files ----------------------------------------------------------

NEW_MEDICARE = f"""
[[rule]]
id = "medicare-ffs-2026"
based_on = "medicare-ffs"
payer_type = "medicare"
effective_from = 2026-01-01
source = "Customer: new MAC guidance"
{LEVELS}
"""


def test_override_adds_a_version_that_applies_from_its_date(tmp_path: Path) -> None:
    """A newer version governs from its effective date on; before that the older one does."""
    registry = load_registry(write(tmp_path, NEW_MEDICARE))
    before = registry.rule_for("X", PayerType.MEDICARE, date(2025, 12, 31))
    on = registry.rule_for("X", PayerType.MEDICARE, date(2026, 1, 1))
    after = registry.rule_for("X", PayerType.MEDICARE, date(2030, 1, 1))
    assert before.id == "medicare-ffs"
    assert before.appeal_levels[0].filing_days == 120
    assert on.id == after.id == "medicare-ffs-2026"
    assert on.appeal_levels[0].filing_days == 45
    # Inherited from the base rule.
    assert on.timely_filing.months == 12
    assert on.presumed_receipt_days == 5
    assert on.source == "Customer: new MAC guidance"
    assert len(registry.rules) == len(load_registry().rules) + 1


def test_before_every_version_the_oldest_applies(tmp_path: Path) -> None:
    """A date earlier than every version gets the oldest version, not an error."""
    registry = load_registry(write(tmp_path, NEW_MEDICARE))
    assert registry.rule_for("X", PayerType.MEDICARE, date(2020, 1, 1)).id == "medicare-ffs"
    uhc = registry.rule_for("87726", PayerType.COMMERCIAL, date(2020, 1, 1))
    assert uhc.id == "unitedhealthcare"


def test_override_payer_id_rule_for_a_new_payer(tmp_path: Path) -> None:
    """An override can add a payer-specific rule; other payers of the type are unaffected."""
    override = write(
        tmp_path,
        """
[[rule]]
id = "acme-health"
payer_id = "ACME1"
based_on = "commercial-erisa"
effective_from = 2025-03-01
source = "Acme contract section 7"
timely_filing = { days = 365 }
""",
    )
    registry = load_registry(override)
    acme = registry.rule_for("ACME1", PayerType.COMMERCIAL, AS_OF)
    assert acme.id == "acme-health"
    assert acme.timely_filing.days == 365
    assert [lvl.filing_days for lvl in acme.appeal_levels] == [180, 60]
    assert registry.rule_for("OTHER", PayerType.COMMERCIAL, AS_OF).id == "commercial-erisa"


def test_payer_rule_not_yet_in_effect_defers_to_the_type_default(tmp_path: Path) -> None:
    """A payer-specific rule applies only from its date: before it, the payer type's rule in
    effect governs (the oldest-version fallback is for dates before every applicable rule)."""
    override = write(
        tmp_path,
        """
[[rule]]
id = "acme-2026-contract"
payer_id = "ACME1"
based_on = "commercial-erisa"
effective_from = 2026-01-01
source = "Acme contract signed for 2026"
timely_filing = { days = 365 }
""",
    )
    registry = load_registry(override)
    assert registry.rule_for("ACME1", PayerType.COMMERCIAL, date(2026, 1, 1)).id == (
        "acme-2026-contract"
    )
    assert registry.rule_for("ACME1", PayerType.COMMERCIAL, date(2025, 12, 31)).id == (
        "commercial-erisa"
    )


def test_newest_of_several_versions_in_effect_wins() -> None:
    """With several versions in effect, the latest effective date applies."""
    rules = [
        *(type_rule(t) for t in PayerType),
        type_rule(PayerType.OTHER, "other-2025-07", effective_from=date(2025, 7, 1)),
        type_rule(PayerType.OTHER, "other-2025-04", effective_from=date(2025, 4, 1)),
    ]
    registry = PayerRuleRegistry(rules)
    assert registry.rule_for("X", PayerType.OTHER, date(2025, 3, 31)).id == "other"
    assert registry.rule_for("X", PayerType.OTHER, date(2025, 4, 1)).id == "other-2025-04"
    assert registry.rule_for("X", PayerType.OTHER, date(2025, 6, 30)).id == "other-2025-04"
    assert registry.rule_for("X", PayerType.OTHER, date(2025, 7, 1)).id == "other-2025-07"


# --- appeal rights and business days -------------------------------------------------------------


def test_medicare_ffs_gives_no_appeal_rights_on_timely_filing_denials(
    registry: PayerRuleRegistry,
) -> None:
    """42 CFR 424.44: a late Medicare claim gets CO-29 and cannot be appealed. Every other
    shipped payer type keeps appeal rights on CO-29 (commercial: overturnable with proof of
    timely submission)."""
    medicare = registry.rule_for("X", PayerType.MEDICARE, AS_OF)
    withheld = medicare.no_appeal_for("29")
    assert withheld is not None
    assert "42 CFR 424.44" in withheld.citation
    assert medicare.no_appeal_for("50") is None
    others = [t for t in PayerType if t is not PayerType.MEDICARE]
    assert [t for t in others if registry.rule_for("X", t, AS_OF).no_appeal_for("29")] == []


def test_customer_rule_lists_carcs_without_appeal_rights_and_rolls_deadlines(
    tmp_path: Path,
) -> None:
    """Both options are data: a customer rule may withhold appeal rights for a CARC (codes
    normalised) and roll its deadlines to the next business day; its base does neither."""
    override = write(
        tmp_path,
        """
[[rule]]
id = "strict-health"
payer_id = "STRICT1"
based_on = "commercial-erisa"
effective_from = 2025-01-01
source = "Strict Health provider manual 4.2"
rolls_to_business_day = true
no_appeal_rights = [{ carc = " b7 ", citation = "Strict Health manual 4.2: no appeal" }]
""",
    )
    registry = load_registry(override)
    strict = registry.rule_for("STRICT1", PayerType.COMMERCIAL, AS_OF)
    assert strict.rolls_to_business_day is True
    entry = strict.no_appeal_for("B7")
    assert entry is not None and entry.citation == "Strict Health manual 4.2: no appeal"
    base = registry.rule_for("OTHER", PayerType.COMMERCIAL, AS_OF)
    assert (base.rolls_to_business_day, base.no_appeal_rights) == (False, [])


def test_no_appeal_rights_entry_needs_a_citation(tmp_path: Path) -> None:
    override = write(
        tmp_path,
        """
[[rule]]
id = "uncited"
payer_id = "P1"
based_on = "commercial-erisa"
effective_from = 2025-01-01
source = "x"
no_appeal_rights = [{ carc = "29" }]
""",
    )
    with pytest.raises(RulesFileError, match=r"rule 'uncited': no_appeal_rights\.0\.citation"):
        load_registry(override)


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "rule_id", "problem"),
    [
        (
            f"""
[[rule]]
id = "both-kinds"
payer_type = "commercial"
payer_id = "12345"
effective_from = 2025-01-01
source = "x"
timely_filing = {{ days = 90 }}
corrected_claim = {{ days = 90 }}
{LEVELS}
""",
            "both-kinds",
            "a rule applies to exactly one of 'payer_type' or 'payer_id'",
        ),
        (
            """
[[rule]]
id = "gappy"
payer_type = "commercial"
effective_from = 2025-01-01
source = "x"
timely_filing = { days = 90 }
corrected_claim = { days = 90 }
appeal_levels = [
  { level = 1, name = "One", filing_days = 60 },
  { level = 3, name = "Three", filing_days = 60 },
]
""",
            "gappy",
            "appeal levels must be numbered 1..n in order, got [1, 3]",
        ),
        (
            f"""
[[rule]]
id = "no-filing"
payer_type = "commercial"
effective_from = 2025-01-01
source = "x"
corrected_claim = {{ days = 90 }}
{LEVELS}
""",
            "no-filing",
            "timely_filing: Field required",
        ),
        (
            f"""
[[rule]]
id = "two-periods"
payer_type = "commercial"
effective_from = 2025-01-01
source = "x"
timely_filing = {{ days = 90, months = 3 }}
corrected_claim = {{ days = 90 }}
{LEVELS}
""",
            "two-periods",
            "give exactly one of 'days' or 'months'",
        ),
        (
            """
[[rule]]
id = "empty-period"
payer_id = "P1"
based_on = "commercial-erisa"
effective_from = 2025-01-01
source = "x"
corrected_claim = {}
""",
            "empty-period",
            "give exactly one of 'days' or 'months'",
        ),
    ],
    ids=[
        "payer-type-and-payer-id",
        "non-sequential-levels",
        "missing-period",
        "two-periods",
        "empty-inherited-period",
    ],
)
def test_invalid_rule_raises_naming_file_and_rule(
    body: str, rule_id: str, problem: str, tmp_path: Path
) -> None:
    """A rule that fails validation is a RulesFileError naming the file and the rule."""
    path = write(tmp_path, body)
    with pytest.raises(RulesFileError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: rule '{rule_id}': ")
    assert problem in message


def test_based_on_unknown_rule_raises_naming_file_and_rule(tmp_path: Path) -> None:
    """based_on must name a rule defined earlier."""
    path = write(
        tmp_path,
        """
[[rule]]
id = "orphan"
payer_id = "P1"
based_on = "no-such-rule"
effective_from = 2025-01-01
source = "x"
""",
    )
    with pytest.raises(RulesFileError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert str(path) in message
    assert "rule 'orphan' is based on unknown rule 'no-such-rule'" in message


def test_based_on_a_later_rule_is_unknown() -> None:
    """A base must come earlier in the files than the rule built on it."""
    document = {
        "rule": [
            {"id": "child", "payer_id": "P1", "based_on": "parent", "effective_from": AS_OF},
            type_rule(PayerType.OTHER, "parent").model_dump(mode="python"),
        ]
    }
    with pytest.raises(RulesFileError, match="rule 'child' is based on unknown rule 'parent'"):
        parse_rules([("later.toml", document)])


def test_unparsable_toml_raises_naming_the_file(tmp_path: Path) -> None:
    """A file that is not TOML is a RulesFileError naming it."""
    path = write(tmp_path, "[[rule]\nid = ")
    with pytest.raises(RulesFileError) as caught:
        load_registry(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_missing_override_file_raises_naming_the_file(tmp_path: Path) -> None:
    """An override path that cannot be read is a RulesFileError naming it."""
    path = tmp_path / "absent.toml"
    with pytest.raises(RulesFileError) as caught:
        load_registry(path)
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize("missing", list(PayerType))
def test_registry_requires_every_payer_type(missing: PayerType) -> None:
    """Every payer type needs a default rule, so a deadline can always be computed."""
    rules = [type_rule(t) for t in PayerType if t is not missing]
    rules.append(  # a payer-specific rule does not stand in for the type default
        type_rule(PayerType.OTHER, "payer-only").model_copy(
            update={"payer_type": None, "payer_id": "P1"}
        )
    )
    with pytest.raises(RulesFileError, match=f"no payer rule for payer type '{missing.value}'"):
        PayerRuleRegistry(rules)


def test_registry_with_every_payer_type_builds() -> None:
    """The complement of the test above: one rule per type is enough."""
    registry = PayerRuleRegistry([type_rule(t) for t in PayerType])
    assert {r.payer_type for r in registry.rules} == set(PayerType)
