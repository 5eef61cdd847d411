"""When an appeal letter is finished: prompts, empty boxes, required sections, the pending
attestation and enclosures without a file, all listed at once in the biller's words; the
argument merged into its section; the enclosure list after the signature; no internal note in
any letter."""

from __future__ import annotations

import pytest

from domain.appeals.attestation import PENDING_ATTESTATION
from domain.appeals.finishing import (
    AttachedFile,
    EnclosureItem,
    LetterToSend,
    join_letter,
    letter_as_sent,
    merge_argument,
    split_letter,
    unfinished_parts,
)
from domain.appeals.letters import build_letter_facts, notes_for_biller, render_letter
from domain.models import Category, PayerType
from domain.rulebook import Rulebook
from tests.domain.appeals.case_builder import TODAY, letter_case

FINISHED = """REQUEST FOR FIRST-LEVEL APPEAL - CODING DENIAL

To whom it may concern,

DENIAL REASON
- CO-4: The procedure code is inconsistent with the modifier used.

WHY THE CLAIM SHOULD BE PAID
Modifier 25 marks a separate evaluation on the day of the procedure.

POLICY AND DEADLINES
- A decision is due within 30 days of receipt of this request.

Sincerely,

Billing office
"""
NOTES = AttachedFile(document_id="d1", filename="notes.pdf", sha256="ab" * 32)


def letter(body: str = FINISHED, *enclosures: EnclosureItem) -> LetterToSend:
    return LetterToSend(body=body, enclosures=list(enclosures))


def test_a_finished_letter_has_nothing_missing() -> None:
    attached = EnclosureItem(name="Procedure note", files=[NOTES])
    unticked = EnclosureItem(name="Copy of the claim as billed", included=False)
    assert unfinished_parts(letter(FINISHED, attached, unticked)) == []


def test_every_unfinished_part_is_listed_at_once_in_the_billers_words() -> None:
    body = (
        FINISHED.replace(
            "Modifier 25 marks a separate evaluation",
            "Modifier 25 marks [explain the distinct session, site, organ or encounter documented "
            "in the enclosed notes]",
        )
        .replace("To whom", "[ ] Copy of the claim\nTo whom")
        .replace("Billing office\n", f"Billing office\n{PENDING_ATTESTATION}\n")
    )
    enclosures = (
        EnclosureItem(name="Clinical notes", detail="office notes"),
        EnclosureItem(name="Proof of timely filing", included=False),
        EnclosureItem(name="Physician attestation", provided="signed in the case manager"),
    )
    assert unfinished_parts(letter(body, *enclosures)) == [
        'Remove the empty box "[ ] Copy of the claim" (under Request for first-level appeal - '
        "coding denial): enclosures are listed from the files attached to the appeal",
        'Fill in or remove "[explain the distinct session, site, organ or encounter '
        'docu…]" (in the argument)',
        "The physician's attestation is still pending: a physician attests on the case, or "
        "upload the signed attestation",
        'Attach "Clinical notes", or untick it if it is not enclosed',
    ]


def test_a_prompt_around_a_prompt_is_two() -> None:
    body = FINISHED.replace(
        "Modifier 25 marks", "[If none applied: notified on [date].] Modifier 25 marks"
    )
    assert unfinished_parts(letter(body)) == [
        'Fill in or remove "[If none applied: notified on [date].]" (in the argument)',
        'Fill in or remove "[date]" (in the argument)',
    ]


def test_a_ticked_box_is_no_prompt() -> None:
    assert unfinished_parts(letter(FINISHED.replace("Sincerely", "[x] Sincerely"))) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            FINISHED.replace(
                "Modifier 25 marks a separate evaluation on the day of the procedure.", ""
            ),
            'Write the argument (why the claim should be paid): the "Why the claim should be '
            'paid" section is empty',
        ),
        (
            FINISHED.replace("WHY THE CLAIM SHOULD BE PAID\n", ""),
            'Add the argument (why the claim should be paid): the letter has no "Why the claim '
            'should be paid" section',
        ),
        (
            FINISHED.replace("DENIAL REASON\n", "Denial reason\n"),
            'Add the denial reason: the letter has no "Denial reason" section',
        ),
    ],
    ids=["empty-argument", "no-argument-heading", "no-denial-reason"],
)
def test_required_sections_must_be_there_and_written(body: str, expected: str) -> None:
    assert unfinished_parts(letter(body)) == [expected]


def test_the_generated_drafts_are_unfinished(rulebook: Rulebook) -> None:
    """Every draft the templates produce still asks for something: none goes out as is."""
    for category in Category:
        if category is Category.REJECTION:
            continue
        state = letter_case(rulebook, category)
        facts = build_letter_facts(state, rulebook.table, TODAY)
        draft = render_letter(facts).body
        enclosures = [EnclosureItem(name=e.name, detail=e.detail) for e in facts.enclosures]
        missing = unfinished_parts(LetterToSend(body=draft, enclosures=enclosures))
        assert f'Attach "{facts.enclosures[0].name}", or untick it if it is not enclosed' in missing
        if category is not Category.TIMELY_FILING:  # its argument lists the filing records
            assert any(part.startswith("Fill in or remove") for part in missing), category


def test_the_argument_is_merged_into_its_section() -> None:
    merged = merge_argument(FINISHED, "The authorisation A-1 was on file.")
    assert split_letter(merged).argument == "The authorisation A-1 was on file."
    assert merged.index("DENIAL REASON") < merged.index("A-1") < merged.index("POLICY AND")
    assert "Modifier 25" not in merged
    # A letter whose biller removed the heading gets the section back, before its closing.
    headless = "Dear payer,\n\nSincerely"
    assert merge_argument(headless, "Paid in error.") == (
        "Dear payer,\n\nSincerely\n\nWHY THE CLAIM SHOULD BE PAID\nPaid in error.\n"
    )


def test_split_and_join_keep_the_letter_and_fold_browser_line_endings() -> None:
    parts = split_letter(FINISHED.replace("\n", "\r\n"))
    assert parts.argument == "Modifier 25 marks a separate evaluation on the day of the procedure."
    assert parts.closing.startswith("POLICY AND DEADLINES")
    assert join_letter(parts.opening, parts.argument, parts.closing) == FINISHED


def test_the_enclosures_are_listed_after_the_signature() -> None:
    sent = letter_as_sent(
        letter(
            FINISHED,
            EnclosureItem(name="Procedure note", files=[NOTES]),
            EnclosureItem(name="Copy of the claim as billed", included=False),
            EnclosureItem(name="Physician attestation", provided="signed in the case manager"),
        )
    )
    assert sent == FINISHED + "\nEnclosures (2):\n- Procedure note\n- Physician attestation\n"
    assert letter_as_sent(letter(FINISHED)) == FINISHED


@pytest.mark.parametrize("payer_type", list(PayerType))
def test_no_letter_prints_an_internal_note(rulebook: Rulebook, payer_type: PayerType) -> None:
    """The rule's source and caveats ("Verify per contract") are for the biller only."""
    for category in (Category.MEDICAL_NECESSITY, Category.CODING, Category.TIMELY_FILING):
        state = letter_case(rulebook, category, payer_type=payer_type)
        facts = build_letter_facts(state, rulebook.table, TODAY)
        body = render_letter(facts).body
        assert "verify per" not in body.lower()
        assert facts.rule_source not in body and f"({facts.rule_id})" not in body
        (note,) = notes_for_biller(facts)
        assert facts.rule_id in note and facts.rule_source.rstrip(".") in note
