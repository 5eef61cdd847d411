"""The payer's file in words for the case page (domain/remittance_detail.py), on real samples:
which lines were denied (by the same rule that opens cases), each adjustment's group and reason,
remark codes, what a line was billed as, and the payment facts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from domain.models import Claim
from domain.remittance_detail import claim_detail
from domain.rulebook import Rulebook
from edi.parser import parse_bytes

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"


def claim(name: str, icn: str, rulebook: Rulebook) -> Claim:
    parsed = parse_bytes(name, (X12 / name).read_bytes(), rulebook, validate_guide=False)
    return next(item.claim for item in parsed.adjudicated if item.payer_claim_control_number == icn)


def test_a_line_level_denial_reads_in_words(rulebook: Rulebook) -> None:
    detail = claim_detail(
        claim("edi835p__emedny_sample.835", "1000230000000020", rulebook), rulebook.table
    )
    assert (detail.status, detail.payment_method) == ("2 (processed as secondary)", "EFT (ACH)")
    assert detail.denied_lines == [3, 4]
    assert [line.denial for line in detail.lines] == ["", "", "denied", "denied"]
    (co251,) = detail.lines[2].adjustments
    assert (co251.code, co251.group_name, co251.amount, co251.denial) == (
        "CO-251",
        "contractual obligation",
        Decimal("2.75"),
        True,
    )
    assert co251.reason.startswith("The attachment/other documentation that was received")
    (remark,) = detail.lines[2].remarks
    assert (remark.code, remark.words) == ("N206", "")  # no wording shipped for N206


def test_routine_adjustments_are_not_denials_and_billed_as_is_shown(rulebook: Rulebook) -> None:
    detail = claim_detail(
        claim("edi835p__blue_cross_nc_sample.835", "94151100100", rulebook), rulebook.table
    )
    assert (detail.status, detail.payment_method) == ("1 (processed as primary)", "check")
    assert detail.denied_lines == []
    first = detail.lines[0]
    assert [(a.code, a.denial) for a in first.adjustments] == [("CO-42", False), ("PR-2", False)]
    assert first.adjustments[1].group_name == "patient responsibility"
    assert (first.line.procedure_code, first.billed_as) == ("59430", "59410")
    assert detail.lines[2].billed_as == ""  # no SVC06
    assert detail.patient_responsibility == Decimal("142.54")  # PR-2 117.54 + PR-3 25


def test_a_claim_denied_whole_and_known_remark_wording(rulebook: Rulebook) -> None:
    denied = claim("pyx12__835_mult_loops.835", "4276512332", rulebook)
    detail = claim_detail(denied, rulebook.table)
    assert (detail.status, detail.payment_method) == ("4 (denied)", "no payment")
    assert detail.denied_lines == [1]  # CO-16; OA-A7 on lines 2-3 is not a denial code
    with_ma130 = denied.model_copy(update={"rarcs": ["ma130"]})
    (remark,) = claim_detail(with_ma130, rulebook.table).remarks
    assert remark.code == "MA130" and remark.words.startswith("Claim contains incomplete")
