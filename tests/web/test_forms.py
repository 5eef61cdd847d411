from datetime import date
from decimal import Decimal

from domain.case import TaskType
from web.forms import initial_values, parse_task_form
from workflows.messages import ConfirmRootCause, CorrectedClaimSubmitted


def test_root_cause_form_keeps_a_suggested_pattern_unless_unticked() -> None:
    """The checkbox starts ticked when analysis found a pattern: confirming as is keeps it."""
    today = date(2026, 11, 1)
    ticked = initial_values(TaskType.CONFIRM_ROOT_CAUSE, today, None, pattern_suggested=True)
    assert ticked == {"pattern": "on"}
    assert initial_values(TaskType.CONFIRM_ROOT_CAUSE, today, None) == {}
    payload, errors = parse_task_form(TaskType.CONFIRM_ROOT_CAUSE, ticked)
    assert errors == {} and isinstance(payload, ConfirmRootCause) and payload.pattern is True


def test_corrected_claim_form_builds_structured_corrections() -> None:
    form = {
        "corrections": "added modifier 25",
        "diagnosis_codes": "E11.9, I10",
        "line_corrections": "1: code=99214 modifiers=25,59 units=2 revenue=0510\n\n2: amount=80.00",
        "submitted_on": "2026-11-01",
    }
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, form)
    assert errors == {} and isinstance(payload, CorrectedClaimSubmitted)
    corrections = payload.claim_corrections
    assert corrections is not None and corrections.diagnosis_codes == ["E119", "I10"]
    first, second = corrections.lines
    assert (first.procedure_code, first.modifiers, first.units) == ("99214", ["25", "59"], 2)
    assert (second.line_number, second.billed_amount) == (2, Decimal("80.00"))


def test_corrected_claim_form_without_codes_records_text_only() -> None:
    form = {"corrections": "fixed NPI", "submitted_on": "2026-11-01"}
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, form)
    assert errors == {} and isinstance(payload, CorrectedClaimSubmitted)
    assert payload.claim_corrections is None


def test_corrected_claim_form_errors_name_the_field() -> None:
    base = {"corrections": "x", "submitted_on": "2026-11-01"}
    cases = [
        ({"line_corrections": "1: units=2"}, "diagnosis_codes", "needed to build"),
        ({"diagnosis_codes": "123"}, "diagnosis_codes", "not ICD-10-CM diagnosis codes: 123"),
        (
            {"diagnosis_codes": "R69", "line_corrections": "one: units=2"},
            "line_corrections",
            "row 1",
        ),
        (
            {"diagnosis_codes": "R69", "line_corrections": "1: colour=red"},
            "line_corrections",
            "colour=red",
        ),
        (
            {"diagnosis_codes": "R69", "line_corrections": "1: units=0"},
            "line_corrections",
            "greater than 0",
        ),
    ]
    for extra, name, message in cases:
        payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, {**base, **extra})
        assert payload is None and message in errors[name], (extra, errors)
