"""The task forms: defaults, and the corrected-claim form built from the claim's lines (only
what changed is sent; every problem comes back at once, keyed by the field it is about)."""

from datetime import date
from decimal import Decimal

from domain.case import TaskType
from domain.models import ClaimType, DenialKind, ServiceLine
from testkit.records import adj, make_claim
from web.corrected_claim import CorrectionTarget
from web.corrected_claim import initial_values as claim_values
from web.forms import initial_values, parse_task_form
from workflows.messages import ConfirmRootCause, CorrectedClaimSubmitted

TODAY = date(2026, 11, 2)


def test_root_cause_form_keeps_a_suggested_pattern_unless_unticked() -> None:
    """The checkbox starts ticked when analysis found a pattern: confirming as is keeps it."""
    today = date(2026, 11, 1)
    ticked = initial_values(TaskType.CONFIRM_ROOT_CAUSE, today, None, pattern_suggested=True)
    assert ticked == {"pattern": "on"}
    assert initial_values(TaskType.CONFIRM_ROOT_CAUSE, today, None) == {}
    payload, errors = parse_task_form(TaskType.CONFIRM_ROOT_CAUSE, ticked)
    assert errors == {} and isinstance(payload, ConfirmRootCause) and payload.pattern is True


def _target(kind: DenialKind = DenialKind.DENIAL, **claim: object) -> CorrectionTarget:
    lines = [
        ServiceLine(
            line_number=1,
            procedure_code="99213",
            service_date=date(2026, 10, 1),
            billed_amount=Decimal("120.00"),
            paid_amount=Decimal("120.00"),
        ),
        ServiceLine(
            line_number=2,
            procedure_code="97110",
            modifiers=["GP"],
            units=Decimal(0),  # as an 835 reports a line it paid nothing for
            service_date=date(2026, 10, 1),
            billed_amount=Decimal("80.00"),
            adjustments=[adj("CO-4", 80)],
        ),
    ]
    claim = make_claim(TODAY, lines=claim.pop("lines", lines), **claim)  # type: ignore[arg-type]
    return CorrectionTarget(claim, kind, TODAY)


def _form(target: CorrectionTarget, **typed: str) -> dict[str, str]:
    """The form as the page shows it, then what the biller typed."""
    base = {"corrections": "modifier 59 on line 2", "submitted_on": TODAY.isoformat()}
    return {**base, **claim_values(target), **typed}


def test_corrected_claim_form_sends_only_what_changed() -> None:
    target = _target()
    form = _form(
        target,
        diagnosis_codes="E11.9, I10",
        **{"line-2-modifiers": "gp 59", "line-2-units": "1", "line-2-billed_amount": "80"},
    )
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, form, target)
    assert errors == {} and isinstance(payload, CorrectedClaimSubmitted)
    corrections = payload.claim_corrections
    assert corrections is not None and corrections.diagnosis_codes == ["E119", "I10"]
    (line,) = corrections.lines  # line 1 untouched; 80 is line 2's 80.00
    assert (line.line_number, line.modifiers, line.units, line.billed_amount) == (
        2,
        ["GP", "59"],
        Decimal(1),
        None,
    )
    assert corrections.billing_provider_npi is None  # the claim's own, unchanged


def test_corrected_claim_form_without_codes_or_changes_records_text_only() -> None:
    target = _target()
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, _form(target), target)
    assert errors == {} and isinstance(payload, CorrectedClaimSubmitted)
    assert payload.claim_corrections is None


def test_corrected_claim_form_shows_every_problem_at_once() -> None:
    target = _target()
    form = _form(
        target,
        diagnosis_codes="E11.9, I10",
        billing_provider_npi="1234567890",
        **{
            "line-1-procedure_code": "9921",
            "line-1-diagnosis_pointers": "1, 3",
            "line-2-modifiers": "59",
            "line-2-service_date": "2026-11-30",
        },
    )
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, form, target)
    assert payload is None
    assert errors == {
        "billing_provider_npi": "fails the NPI check digit (a digit is mistyped)",
        "line-1-procedure_code": "a CPT or HCPCS code is 5 letters or digits, such as 99214 "
        "or G0439",
        "line-1-diagnosis_pointers": "diagnosis pointer 3 points past the 2 diagnosis codes given",
        "line-2-units": "0 units: give the units billed",
        "line-2-service_date": "2026-11-30 is in the future",
    }
    form |= {"line-2-units": "1,5", "corrections": ""}
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, form, target)
    assert errors["line-2-units"] == "give a number above 0 and at most 9999, such as 1 or 2.5"
    assert errors["corrections"] == "Corrections made is required"


def test_changes_without_diagnosis_codes_ask_for_them() -> None:
    target = _target()
    form = _form(target, billing_provider_npi="1234567893")
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, form, target)
    assert payload is None
    assert errors == {
        "diagnosis_codes": "needed to build the corrected 837 with these changes",
        "line-2-units": "0 units: give the units billed",
    }


def test_a_claim_without_lines_takes_the_lines_the_biller_gives() -> None:
    target = _target(
        DenialKind.REJECTION,
        lines=[],
        claim_type=ClaimType.INSTITUTIONAL,
        remit_days_ago=None,
        adjustments=[],
    )
    start = _form(target)
    assert (start["line-1-billed_amount"], start["line-1-units"]) == ("1000.00", "1")
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, start, target)
    assert errors == {} and isinstance(payload, CorrectedClaimSubmitted)
    assert payload.claim_corrections is None  # nothing typed: sent outside the case manager

    typed = _form(
        target,
        diagnosis_codes="R69",
        billing_provider_npi="1234567893",
        line_count="2",
        **{"line-1-procedure_code": "99213", "line-1-revenue_code": "0510"},
    )
    typed |= {"line-2-procedure_code": "", "line-2-units": ""}  # an extra row left empty
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, typed, target)
    assert errors == {} and isinstance(payload, CorrectedClaimSubmitted)
    corrections = payload.claim_corrections
    assert corrections is not None and corrections.billing_provider_npi == "1234567893"
    (line,) = corrections.lines
    assert (line.procedure_code, line.revenue_code, line.billed_amount, line.units) == (
        "99213",
        "0510",
        Decimal("1000.00"),
        Decimal(1),
    )

    no_line = _form(target, diagnosis_codes="R69", billing_provider_npi="1234567893")
    payload, errors = parse_task_form(TaskType.PREPARE_CORRECTED_CLAIM, no_line, target)
    assert payload is None and errors == {
        "line-1-procedure_code": "the file that reported the claim listed no service lines: "
        "give the claim's lines as they were billed"
    }
