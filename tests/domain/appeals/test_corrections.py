"""Corrected claims: the replacement (or void) claim, and its 837 written, validated by pyx12
and read back with the same values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.appeals.corrections import (
    ClaimCorrections,
    Frequency,
    LineCorrection,
    corrections_problem,
    replacement_claim,
    revenue_codes,
)
from domain.models import Category, Claim, ClaimType, DenialKind, PayerType, ServiceLine
from domain.rulebook import Rulebook
from edi.claim837 import Submitter, read_837, write_837
from edi.validation import validate
from tests.domain.appeals.case_builder import letter_case

SENT_AT = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


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
    assert second == original.service_lines[1].model_copy(update={"adjustments": []})
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
        "an institutional claim needs a revenue code on lines [2]"
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
