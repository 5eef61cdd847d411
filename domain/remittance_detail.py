"""What the payer's file said about a claim, in words a biller reads: each adjustment with its
group and reason, each remark code, which service line was denied and what it was billed as.

Pure: the CARC and RARC wording comes from the classification table (domain/data), and which
adjustment is a denial from the same rule that opens cases, so the page highlights exactly the
lines that made the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.classification import ClassificationTable
from domain.models import Adjustment, Claim, GroupCode, ServiceLine

# CAS01 group codes (X12 / CMS wording, shortened).
GROUP_NAMES = {
    GroupCode.CO: "contractual obligation",
    GroupCode.PR: "patient responsibility",
    GroupCode.OA: "other adjustment",
    GroupCode.PI: "payer-initiated reduction",
    GroupCode.CR: "correction or reversal",
}
# CLP02 claim status codes (835 implementation guide).
CLAIM_STATUSES = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to another payer",
    "20": "processed as secondary, forwarded to another payer",
    "21": "processed as tertiary, forwarded to another payer",
    "22": "reversal of a previous payment",
    "23": "not our claim, forwarded to another payer",
    "25": "predetermination pricing only, no payment",
}
# 277CA STC01-1 claim status categories (the official meanings; see the domain reference).
STATUS_CATEGORIES: dict[str, str] = {
    "A0": "forwarded",
    "A1": "received",
    "A2": "accepted into adjudication",
    "A3": "returned as unprocessable",
    "A4": "not found",
    "A5": "split claim",
    "A6": "missing information",
    "A7": "invalid information",
    "A8": "relational field in error",
}
# BPR04 payment method codes.
PAYMENT_METHODS = {
    "CHK": "check",
    "ACH": "EFT (ACH)",
    "BOP": "EFT (financial institution option)",
    "FWT": "wire transfer",
    "NON": "no payment",
}
UNKNOWN_REMARK = "not in the product's remark code table"


@dataclass(frozen=True)
class AdjustmentDetail:
    group: str
    group_name: str
    carc: str
    reason: str
    amount: Decimal
    denial: bool

    @property
    def code(self) -> str:
        return f"{self.group}-{self.carc}"


@dataclass(frozen=True)
class RemarkDetail:
    code: str
    words: str  # empty when the table has no wording for it


@dataclass(frozen=True)
class LineDetail:
    line: ServiceLine
    adjustments: list[AdjustmentDetail]
    remarks: list[RemarkDetail]
    denial: str  # "" | "denied" (nothing paid) | "partly denied"
    billed_as: str  # SVC06's code and modifiers when the payer adjudicated another code

    @property
    def denial_codes(self) -> list[str]:
        return [a.code for a in self.adjustments if a.denial]


@dataclass(frozen=True)
class ClaimDetail:
    claim: Claim
    status: str
    payment_method: str
    adjustments: list[AdjustmentDetail]
    remarks: list[RemarkDetail]
    lines: list[LineDetail]

    @property
    def denied_lines(self) -> list[int]:
        return [detail.line.line_number for detail in self.lines if detail.denial]

    @property
    def patient_responsibility(self) -> Decimal:
        every = [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]
        return sum((a.amount for a in every if a.group == GroupCode.PR.value), Decimal(0))


def claim_detail(claim: Claim, table: ClassificationTable) -> ClaimDetail:
    status = claim.claim_status
    status_words = CLAIM_STATUSES.get(status) or STATUS_CATEGORIES.get(status, "")
    return ClaimDetail(
        claim=claim,
        status=f"{status} ({status_words})" if status_words else status,
        payment_method=PAYMENT_METHODS.get(claim.payment_method, claim.payment_method),
        adjustments=[_adjustment(a, table) for a in claim.adjustments],
        remarks=[_remark(code, table) for code in claim.rarcs],
        lines=[_line(line, table) for line in claim.service_lines],
    )


def _adjustment(adjustment: Adjustment, table: ClassificationTable) -> AdjustmentDetail:
    rule = table.rule_for(adjustment.carc)
    return AdjustmentDetail(
        group=adjustment.group.value,
        group_name=GROUP_NAMES[adjustment.group],
        carc=adjustment.carc,
        reason=rule.description if rule else "unknown reason code",
        amount=adjustment.amount,
        denial=table.is_denial(adjustment),
    )


def _remark(code: str, table: ClassificationTable) -> RemarkDetail:
    code = code.strip().upper()
    return RemarkDetail(code=code, words=table.rarc_descriptions.get(code, ""))


def _line(line: ServiceLine, table: ClassificationTable) -> LineDetail:
    adjustments = [_adjustment(a, table) for a in line.adjustments]
    denial = ""
    if any(a.denial for a in adjustments):
        denial = "partly denied" if line.paid_amount > 0 else "denied"
    billed_as = ""
    if line.submitted_procedure_code and (
        line.submitted_procedure_code != line.procedure_code
        or line.submitted_modifiers != line.modifiers
    ):
        billed_as = " ".join([line.submitted_procedure_code, *line.submitted_modifiers])
    return LineDetail(
        line=line,
        adjustments=adjustments,
        remarks=[_remark(code, table) for code in line.rarcs],
        denial=denial,
        billed_as=billed_as,
    )
