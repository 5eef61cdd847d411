"""Appeal letters: golden files for every category and level, template selection, facts.

Regenerate the golden files after an intended template change with
`DENIALS_REGENERATE_GOLDEN=1 pytest tests/domain/appeals/test_letters.py`, then review the diff.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.appeals.attestation import Attestation, AttestationMethod
from domain.appeals.letters import (
    PENDING_ATTESTATION,
    LetterError,
    build_letter_facts,
    render_letter,
    template_candidates,
    with_current_attestation,
)
from domain.models import Category, PayerType
from domain.rulebook import Rulebook
from tests.domain.appeals.case_builder import TODAY, letter_case

GOLDEN = Path(__file__).parents[2] / "data" / "letters"
REGENERATE = os.environ.get("DENIALS_REGENERATE_GOLDEN") == "1"
APPEALABLE = [c for c in Category if c is not Category.REJECTION]
# Commercial (ERISA) payers have two levels; Medicare five, with its own templates.
CASES = [
    *[(PayerType.COMMERCIAL, category, level) for category in APPEALABLE for level in (1, 2)],
    *[(PayerType.MEDICARE, Category.MEDICAL_NECESSITY, level) for level in range(1, 6)],
    (PayerType.MEDICARE, Category.TIMELY_FILING, 1),
]


def _golden_name(payer_type: PayerType, category: Category, level: int) -> str:
    return f"{payer_type.value}-{category.value}-level{level}.txt"


@pytest.mark.parametrize(
    ("payer_type", "category", "level"),
    CASES,
    ids=[_golden_name(*case).removesuffix(".txt") for case in CASES],
)
def test_letter_matches_golden_file(
    rulebook: Rulebook, payer_type: PayerType, category: Category, level: int
) -> None:
    state = letter_case(rulebook, category, level=level, payer_type=payer_type)
    letter = render_letter(build_letter_facts(state, rulebook.table, TODAY))
    golden = GOLDEN / _golden_name(payer_type, category, level)
    text = f"template: {letter.template}\n\n{letter.body}"
    if REGENERATE:
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"missing golden file {golden.name}: regenerate and review it"
    assert text == golden.read_text(encoding="utf-8")


def test_every_golden_file_has_a_case() -> None:
    expected = {_golden_name(*case) for case in CASES}
    assert {path.name for path in GOLDEN.glob("*.txt")} == expected


def test_templates_chosen_from_most_to_least_specific(rulebook: Rulebook) -> None:
    state = letter_case(
        rulebook, Category.MEDICAL_NECESSITY, level=3, payer_type=PayerType.MEDICARE
    )
    facts = build_letter_facts(state, rulebook.table, TODAY)
    assert template_candidates(facts) == [
        "payer/12202/medical_necessity.level3.txt.j2",
        "payer/12202/medical_necessity.txt.j2",
        "medicare/medical_necessity.level3.txt.j2",
        "medicare/medical_necessity.txt.j2",
        "default/medical_necessity.level3.txt.j2",
        "default/medical_necessity.txt.j2",
        "default/other.txt.j2",
    ]
    assert render_letter(facts).template == "medicare/medical_necessity.level3.txt.j2"
    level_two = letter_case(
        rulebook, Category.MEDICAL_NECESSITY, level=2, payer_type=PayerType.MEDICARE
    )
    facts = build_letter_facts(level_two, rulebook.table, TODAY)
    assert render_letter(facts).template == "medicare/medical_necessity.txt.j2"


def test_letter_states_denial_reason_deadline_and_previous_decision(rulebook: Rulebook) -> None:
    state = letter_case(rulebook, Category.AUTHORIZATION, level=2)
    facts = build_letter_facts(state, rulebook.table, TODAY)
    body = render_letter(facts).body
    reason = rulebook.table.rule_for("197")
    assert reason is not None and f"CO-197: {reason.description}" in body
    # Level 2 of the commercial rule: 60 days from the level 1 decision of February 22.
    assert "level 1 decision dated February 22, 2026" in body
    assert "this request is due by April 23, 2026" in body
    # The enclosures go with the letter (listed after the signature once attached), not as
    # empty boxes inside it.
    assert "Authorisation record" in [enclosure.name for enclosure in facts.enclosures]
    assert "[ ]" not in body


def test_timely_filing_letter_lists_the_filing_records(rulebook: Rulebook) -> None:
    state = letter_case(rulebook, Category.TIMELY_FILING, level=2)
    facts = build_letter_facts(state, rulebook.table, TODAY)
    body = render_letter(facts).body
    assert "- February 16, 2026: Payer's denial notice received" in body
    assert "- February 19, 2026: Level 1 appeal submitted (reference APL-1)" in body
    assert "Proof of timely filing" in [enclosure.name for enclosure in facts.enclosures]


def test_attestation_status_in_medical_necessity_letter(rulebook: Rulebook) -> None:
    pending = letter_case(rulebook, Category.MEDICAL_NECESSITY)
    attested = letter_case(rulebook, Category.MEDICAL_NECESSITY, attested=True)
    assert (
        "Pending: the treating physician"
        in render_letter(build_letter_facts(pending, rulebook.table, TODAY)).body
    )
    assert (
        "Attested by Dr. Drew Test on February 20, 2026"
        in render_letter(build_letter_facts(attested, rulebook.table, TODAY)).body
    )


def test_no_letter_for_a_level_the_payer_lacks(rulebook: Rulebook) -> None:
    state = letter_case(rulebook, Category.CODING)
    with pytest.raises(LetterError, match="no appeal level 3"):
        build_letter_facts(state, rulebook.table, TODAY, level=3)


def test_untriaged_case_has_no_letter(rulebook: Rulebook) -> None:
    state = letter_case(rulebook, Category.CODING).model_copy(update={"category": None})
    with pytest.raises(LetterError, match="not been triaged"):
        build_letter_facts(state, rulebook.table, TODAY)


def test_a_saved_letter_states_the_attestation_recorded_since() -> None:
    attestation = Attestation(
        method=AttestationMethod.PHYSICIAN_SIGNED,
        attested_by="drew",
        physician_name="Dr. Drew Okafor",
        statement="Necessary.",
        recorded_at=datetime(2026, 11, 3, 15, 0, tzinfo=UTC),
    )
    saved = f"Dear payer,\n{PENDING_ATTESTATION}\nSincerely"
    assert with_current_attestation(saved, attestation) == (
        "Dear payer,\nAttested by Dr. Drew Okafor on November 3, 2026: Necessary.\nSincerely"
    )
    assert with_current_attestation(saved, None) == saved
    rewritten = "Dear payer,\nThe attestation follows under separate cover.\nSincerely"
    assert with_current_attestation(rewritten, attestation) == rewritten
