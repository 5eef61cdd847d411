"""What an 835 says beyond the denial, kept on the claim for the case page: the check or EFT
trace number and payment method (TRN02, BPR04), and per service line the code as billed when
the payer adjudicated another (SVC06/07), the line item control number (REF*6R) and the
allowed amount (AMT*B6). Expected values read off the real samples in tests/data/x12/."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from domain.models import Claim
from domain.rulebook import Rulebook
from edi.parser import parse_bytes

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"


def claims_of(name: str, rulebook: Rulebook) -> dict[str, Claim]:
    """Every claim the file adjudicated, by payer claim number (CLP07)."""
    parsed = parse_bytes(name, (X12 / name).read_bytes(), rulebook, validate_guide=False)
    return {item.claim.payer_claim_control_number: item.claim for item in parsed.adjudicated}


def test_line_level_denial_keeps_trace_payment_method_and_line_detail(
    rulebook: Rulebook,
) -> None:
    # NY Medicaid: BPR*I*45.75*C*ACH*...*20100101, TRN*1*10100000000*1000000000; the third
    # claim (CLP07 1000230000000020) is paid 11.50 with lines 3 and 4 at 0, CO-251 + N206.
    parsed = parse_bytes(
        "edi835p__emedny_sample.835",
        (X12 / "edi835p__emedny_sample.835").read_bytes(),
        rulebook,
        validate_guide=False,
    )
    case = next(
        c for c in parsed.cases if c.record.claim.payer_claim_control_number == "1000230000000020"
    )
    claim = case.record.claim
    assert (claim.remittance_trace, claim.payment_method) == ("10100000000", "ACH")
    assert claim.remittance_date == date(2010, 1, 1)
    assert (claim.claim_status, claim.billed_amount, claim.paid_amount) == (
        "2",
        Decimal("34.25"),
        Decimal("11.5"),
    )
    lines = [
        (
            line.line_number,
            line.procedure_code,
            line.modifiers,
            line.units,
            line.billed_amount,
            line.paid_amount,
            [(a.code, a.amount) for a in line.adjustments],
            line.rarcs,
        )
        for line in claim.service_lines
    ]
    assert lines == [
        (1, "V2020", ["RB"], Decimal(1), Decimal(6), Decimal(6), [], []),
        (2, "V2103", ["RB"], Decimal(1), Decimal("5.5"), Decimal("5.5"), [], []),
        (3, "V2700", ["RB"], Decimal(0), Decimal("2.75"), Decimal(0), [("CO-251", 2.75)], ["N206"]),
        (4, "S0580", [], Decimal(0), Decimal(20), Decimal(0), [("CO-251", 20)], ["N206"]),
    ]
    # AMT*B6 allowed on the paid lines only; no SVC06 (billed as adjudicated), no REF*6R.
    assert [line.allowed_amount for line in claim.service_lines] == [
        Decimal(6),
        Decimal("5.5"),
        None,
        None,
    ]
    assert {
        (line.submitted_procedure_code, line.control_number) for line in claim.service_lines
    } == {("", "")}


def test_code_as_billed_and_line_control_numbers(rulebook: Rulebook) -> None:
    # Blue Cross NC: BPR*I*1922.86*C*CHK, TRN*1*02790758; SVC*HC:59430*1210*1057.86**1*HC:59410
    # (adjudicated as 59430, billed as 59410), REF*6R*0001; the second line likewise.
    claim = claims_of("edi835p__blue_cross_nc_sample.835", rulebook)["94151100100"]
    assert (claim.remittance_trace, claim.payment_method) == ("02790758", "CHK")
    first, second = claim.service_lines[:2]
    assert (first.procedure_code, first.submitted_procedure_code, first.control_number) == (
        "59430",
        "59410",
        "0001",
    )
    assert (second.procedure_code, second.submitted_procedure_code, second.control_number) == (
        "59440",
        "59410",
        "0002",
    )
    assert claim.service_lines[2].control_number == "0003"


def test_no_payment_remittance_and_the_trace_of_a_component_separator_file(
    rulebook: Rulebook,
) -> None:
    # pyx12: BPR*H*0*C*NON (no payment), TRN*1*000000000 (a trace of zeros is still the trace).
    denied = claims_of("pyx12__835_mult_loops.835", rulebook)["4276512332"]
    assert (denied.remittance_trace, denied.payment_method) == ("000000000", "NON")
    # UHC legacy ('>' separates components): BPR*I*349.99*C*ACH, TRN*1*1234567890.
    paid = claims_of("edi835p__united_healthcare_legacy_sample.835", rulebook)["ATL2819897200"]
    assert (paid.remittance_trace, paid.payment_method) == ("1234567890", "ACH")
    assert [line.control_number for line in paid.service_lines] == [
        "800941258001",
        "800941258002",
    ]
    assert [line.units for line in paid.service_lines] == [Decimal(234), Decimal(277)]
