"""Corrected claims: the replacement (or void) claim, and its 837 written, validated by pyx12
and read back with the same values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.appeals.corrections import (
    ClaimCorrections,
    Frequency,
    LineCorrection,
    correction_problems,
    corrections_problem,
    replacement_claim,
    revenue_codes,
)
from domain.models import Category, Claim, ClaimType, DenialKind, PayerType, ServiceLine
from domain.rulebook import Rulebook
from edi.claim837 import Submitter, read_837, write_837
from edi.parser import parse_bytes
from edi.validation import validate
from tests.domain.appeals.case_builder import letter_case

SENT_AT = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
X12 = Path(__file__).resolve().parents[2] / "data" / "x12"


def _claim(rulebook: Rulebook, claim_type: ClaimType, payer_type: PayerType) -> Claim:
    claim = letter_case(rulebook, Category.CODING, payer_type=payer_type).record.claim
    second = ServiceLine(
        line_number=2,
        procedure_code="36415",
        service_date=date(2026, 1, 13),
        billed_amount=Decimal("25.00"),
    )
    return claim.model_copy(
        update={"claim_type": claim_type, "service_lines": [*claim.service_lines, second]}
    )


CORRECTIONS = ClaimCorrections(
    diagnosis_codes=["E11.9", "I10"],
    lines=[
        LineCorrection(
            line_number=1,
            procedure_code="99214",
            modifiers=["25", "gt"],
            units=Decimal(2),
            billed_amount=Decimal("310.50"),
            revenue_code="0510",
        ),
        LineCorrection(line_number=2, revenue_code="0300"),
    ],
)


def test_replacement_claim_applies_the_corrections(rulebook: Rulebook) -> None:
    original = _claim(rulebook, ClaimType.PROFESSIONAL, PayerType.COMMERCIAL)
    claim = replacement_claim(original, CORRECTIONS)
    assert claim.frequency_code == "7"
    first, second = claim.service_lines
    assert (first.procedure_code, first.modifiers, first.units) == ("99214", ["25", "GT"], 2)
    assert second == original.service_lines[1].model_copy(
        update={"adjustments": [], "revenue_code": "0300"}
    )
    assert claim.billed_amount == Decimal("335.50")
    assert (claim.adjustments, claim.paid_amount) == ([], Decimal(0))
    assert (claim.service_date_from, claim.service_date_to) == (
        date(2026, 1, 12),
        date(2026, 1, 13),
    )
    void = replacement_claim(original, CORRECTIONS.model_copy(update={"frequency": Frequency.VOID}))
    assert void.frequency_code == "8"


@pytest.mark.parametrize(
    ("claim_type", "payer_type", "version", "filing"),
    [
        (ClaimType.PROFESSIONAL, PayerType.COMMERCIAL, "005010X222A1", "SBR*P*18*******CI~"),
        (ClaimType.INSTITUTIONAL, PayerType.MEDICARE, "005010X223A2", "SBR*P*18*******MA~"),
    ],
)
def test_837_validates_and_reads_back_the_same_values(
    rulebook: Rulebook, claim_type: ClaimType, payer_type: PayerType, version: str, filing: str
) -> None:
    original = _claim(rulebook, claim_type, payer_type)
    assert corrections_problem(original, CORRECTIONS) is None
    claim = replacement_claim(original, CORRECTIONS)
    text = write_837(
        claim, CORRECTIONS.diagnosis_codes, Submitter(), 7, SENT_AT, revenue_codes(CORRECTIONS)
    )

    assert validate(text.encode()) == []
    assert filing in text
    parsed = read_837(text)
    assert parsed.version == version
    assert (parsed.claim_id, parsed.frequency_code) == (claim.claim_id, "7")
    assert parsed.payer_claim_control_number == claim.payer_claim_control_number
    assert (parsed.payer_id, parsed.provider_npi) == (claim.payer.payer_id, claim.provider_npi)
    assert parsed.member_id == claim.patient.member_id
    assert parsed.billed_amount == claim.billed_amount
    assert parsed.diagnosis_codes == ["E119", "I10"]
    expected_revenue = ["0510", "0300"] if claim_type is ClaimType.INSTITUTIONAL else ["", ""]
    assert [
        (line.procedure_code, line.modifiers, line.units, line.billed_amount, line.service_date)
        for line in parsed.lines
    ] == [
        (line.procedure_code, line.modifiers, line.units, line.billed_amount, line.service_date)
        for line in claim.service_lines
    ]
    assert [line.revenue_code for line in parsed.lines] == expected_revenue


def test_void_837_carries_frequency_8(rulebook: Rulebook) -> None:
    corrections = CORRECTIONS.model_copy(update={"frequency": Frequency.VOID})
    claim = replacement_claim(
        _claim(rulebook, ClaimType.PROFESSIONAL, PayerType.MEDICAID), corrections
    )
    text = write_837(claim, corrections.diagnosis_codes, Submitter(), 8, SENT_AT)
    parsed = read_837(text)
    assert (parsed.frequency_code, parsed.payer_claim_control_number) == ("8", "PAYER-77")


def test_a_broken_837_fails_pyx12_validation(rulebook: Rulebook) -> None:
    """The validation the 837 passes is a real check: a missing required segment is found."""
    claim = replacement_claim(
        _claim(rulebook, ClaimType.PROFESSIONAL, PayerType.COMMERCIAL), CORRECTIONS
    )
    text = write_837(claim, CORRECTIONS.diagnosis_codes, Submitter(), 9, SENT_AT)
    broken = text.replace("REF*EI*000000000~\n", "")
    assert any("REF" in problem.message for problem in validate(broken.encode()))


def test_corrections_problems(rulebook: Rulebook) -> None:
    claim = _claim(rulebook, ClaimType.PROFESSIONAL, PayerType.COMMERCIAL)
    unknown_line = ClaimCorrections(diagnosis_codes=["R69"], lines=[LineCorrection(line_number=9)])
    assert corrections_problem(claim, unknown_line) == (
        "corrections name service lines [9] that the claim does not have"
    )
    no_ccn = claim.model_copy(update={"payer_claim_control_number": ""})
    assert "claim control number" in (corrections_problem(no_ccn, CORRECTIONS) or "")
    institutional = claim.model_copy(update={"claim_type": ClaimType.INSTITUTIONAL})
    only_first = ClaimCorrections(
        diagnosis_codes=["R69"], lines=[LineCorrection(line_number=1, revenue_code="0510")]
    )
    assert corrections_problem(institutional, only_first) == (
        "line 2: an institutional claim needs the line's revenue code"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"diagnosis_codes": ["12345"]}, "not ICD-10-CM diagnosis codes: 12345"),
        ({"diagnosis_codes": []}, "at least 1 item"),
        (
            {"diagnosis_codes": ["R69"], "lines": [{"line_number": 1, "modifiers": ["XYZ"]}]},
            "modifiers are two letters or digits, not XYZ",
        ),
        (
            {"diagnosis_codes": ["R69"], "lines": [{"line_number": 1, "units": 0}]},
            "greater than 0",
        ),
    ],
)
def test_bad_corrections_are_refused_by_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ClaimCorrections.model_validate(fields)


def test_rejected_claim_is_sent_again_as_an_original(rulebook: Rulebook) -> None:
    """Never adjudicated: frequency 1 and no payer claim control number to replace."""
    original = _claim(rulebook, ClaimType.PROFESSIONAL, PayerType.COMMERCIAL).model_copy(
        update={"payer_claim_control_number": ""}
    )
    assert corrections_problem(original, CORRECTIONS, DenialKind.REJECTION) is None
    claim = replacement_claim(original, CORRECTIONS, DenialKind.REJECTION)
    text = write_837(claim, CORRECTIONS.diagnosis_codes, Submitter(), 10, SENT_AT)
    assert validate(text.encode()) == []
    parsed = read_837(text)
    assert (parsed.frequency_code, parsed.payer_claim_control_number) == ("1", "")
    assert "REF*F8" not in text


def test_frequency_must_fit_the_kind_of_case(rulebook: Rulebook) -> None:
    claim = _claim(rulebook, ClaimType.PROFESSIONAL, PayerType.COMMERCIAL)
    replace = CORRECTIONS.model_copy(update={"frequency": Frequency.REPLACEMENT})
    original = CORRECTIONS.model_copy(update={"frequency": Frequency.ORIGINAL})
    assert corrections_problem(claim, replace, DenialKind.REJECTION) == (
        "a rejected claim was never adjudicated: send it again with frequency 1, not 7 or 8"
    )
    assert corrections_problem(claim, original, DenialKind.DENIAL) == (
        "an adjudicated claim is corrected with frequency 7 (replace) or 8 (void), not 1"
    )


def _rejected_by_277ca(rulebook: Rulebook) -> Claim:
    """The real 277CA sample: claim 3920394930203 rejected A7:562:85 (the billing provider's NPI,
    '123456789', is not 10 digits: not recorded), institutional (bill type 731), no SVC line."""
    raw = (X12 / "imsweb__x12_277CA_rejected.277").read_bytes()
    (case,) = parse_bytes("rejected.277", raw, rulebook, validate_guide=False).cases
    claim = case.record.claim
    assert (claim.provider_npi, claim.service_lines, claim.billed_amount) == (
        "",
        [],
        Decimal("199.14"),
    )
    return claim


def test_rejected_npi_is_corrected_on_lines_the_biller_gives(rulebook: Rulebook) -> None:
    claim = _rejected_by_277ca(rulebook)
    rejection = DenialKind.REJECTION
    nothing = ClaimCorrections(diagnosis_codes=["R69"])
    assert [(p.field, str(p)) for p in correction_problems(claim, nothing, rejection)] == [
        ("billing_provider_npi", "the claim's billing provider NPI is missing: give the right one"),
        (
            "lines",
            "the file that reported the claim listed no service lines: give the claim's lines as "
            "they were billed",
        ),
    ]
    half_a_line = ClaimCorrections(
        diagnosis_codes=["R69"],
        billing_provider_npi="1234567893",
        lines=[LineCorrection(line_number=1, modifiers=["25"])],
    )
    assert [str(p) for p in correction_problems(claim, half_a_line, rejection)] == [
        "line 1: the procedure code is missing",
        "line 1: the line's charge is missing",
        "line 1: an institutional claim needs the line's revenue code",
    ]
    corrections = ClaimCorrections(
        diagnosis_codes=["R69"],
        billing_provider_npi=" 1234567893 ",
        lines=[
            LineCorrection(
                line_number=1,
                procedure_code="99213",
                billed_amount=Decimal("199.14"),
                revenue_code="0510",
            )
        ],
    )
    assert correction_problems(claim, corrections, rejection) == []
    sent = replacement_claim(claim, corrections, rejection)
    text = write_837(sent, corrections.diagnosis_codes, Submitter(), 11, SENT_AT)
    assert validate(text.encode()) == []
    parsed = read_837(text)
    assert (parsed.provider_npi, parsed.frequency_code, parsed.billed_amount) == (
        "1234567893",
        "1",
        Decimal("199.14"),
    )
    assert [
        (line.revenue_code, line.procedure_code, line.service_date) for line in parsed.lines
    ] == [
        ("0510", "99213", date(2009, 3, 11))  # the 277CA's date of service stands in
    ]


def test_every_problem_is_listed_at_once_with_its_field(rulebook: Rulebook) -> None:
    claim = _claim(rulebook, ClaimType.INSTITUTIONAL, PayerType.COMMERCIAL).model_copy(
        update={"provider_npi": "1234567890"}  # fails the check digit
    )
    zero_units = claim.service_lines[1].model_copy(update={"units": Decimal(0)})
    claim = claim.model_copy(update={"service_lines": [claim.service_lines[0], zero_units]})
    corrections = ClaimCorrections(
        diagnosis_codes=["E11.9", "I10"],
        lines=[
            LineCorrection(
                line_number=1,
                revenue_code="0510",
                diagnosis_pointers=[1, 3, 4],
                service_date=date(2026, 3, 3),
            )
        ],
    )
    problems = correction_problems(claim, corrections, today=date(2026, 3, 2))
    assert [(p.field, p.message) for p in problems] == [
        (
            "billing_provider_npi",
            "the claim's billing provider NPI fails the NPI check digit (a digit is mistyped): "
            "give the right one",
        ),
        (
            "lines.1.diagnosis_pointers",
            "diagnosis pointer 3, 4 points past the 2 diagnosis codes given",
        ),
        ("lines.1.service_date", "2026-03-03 is in the future"),
        ("lines.2.units", "0 units: give the units billed"),
        ("lines.2.revenue_code", "an institutional claim needs the line's revenue code"),
    ]
    assert corrections_problem(claim, corrections, today=date(2026, 3, 2)) == "; ".join(
        str(p) for p in problems
    )
    fixed = corrections.model_copy(
        update={
            "billing_provider_npi": "1234567893",
            "lines": [
                LineCorrection(line_number=1, revenue_code="0510", diagnosis_pointers=[2, 1]),
                LineCorrection(line_number=2, revenue_code="0300", units=Decimal(1)),
            ],
        }
    )
    assert correction_problems(claim, fixed, today=date(2026, 3, 2)) == []
    text = write_837(
        replacement_claim(claim, fixed), fixed.diagnosis_codes, Submitter(), 12, SENT_AT
    )
    assert validate(text.encode()) == []
    assert read_837(text).provider_npi == "1234567893"


def test_diagnosis_pointers_reach_the_professional_837(rulebook: Rulebook) -> None:
    claim = _claim(rulebook, ClaimType.PROFESSIONAL, PayerType.COMMERCIAL)
    corrections = ClaimCorrections(
        diagnosis_codes=["E11.9", "I10", "R69"],
        lines=[LineCorrection(line_number=2, diagnosis_pointers=[3, 1])],
    )
    text = write_837(
        replacement_claim(claim, corrections), corrections.diagnosis_codes, Submitter(), 13, SENT_AT
    )
    assert validate(text.encode()) == []
    # Line 1 unchanged points to every diagnosis (up to four); line 2 to the third and first.
    assert [line.diagnosis_pointers for line in read_837(text).lines] == [[1, 2, 3], [3, 1]]


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("123456789", "the billing provider NPI must be 10 digits"),
        ("1234567890", "the billing provider NPI fails the NPI check digit"),
        ("", "the billing provider NPI is missing"),
    ],
)
def test_a_wrong_billing_provider_npi_is_refused_by_the_model(npi: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ClaimCorrections(diagnosis_codes=["R69"], billing_provider_npi=npi)
