"""An 835's CLP and SVC loops while they are read: light objects (slots, no validation), turned
into the pydantic models only for the claims that open cases or that someone asks about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.models import Adjustment, GroupCode, ServiceLine
from domain.prevalidated import prevalidated
from edi.claim_values import too_long
from edi.problems import SegmentProblems
from edi.tokenizer import Segment

CLAIM_STATUSES = {"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"}


class RemittanceProblems(SegmentProblems):
    """Problems of an 835, with its element readers."""

    def amount(self, segment: Segment, index: int, required: bool | str = True) -> Decimal:
        """An amount element; a missing required one is an error, unless `required` is
        "warn" (real payers leave some required amounts empty)."""
        elements = segment.elements
        text = elements[index] if index < len(elements) else ""
        if not text:
            if required == "warn":
                self.warning(segment, index, f"{segment.id}{index:02d} is empty: read as 0")
            elif required:
                self.error(segment, index, f"{segment.id}{index:02d} is required (an amount)")
            return Decimal(0)
        value = self.finite_decimal(segment, index, text)
        return Decimal(0) if value is None else value

    def text(self, segment: Segment, index: int, longest: int, name: str) -> str:
        """A text element, refused (an error) when longer than the product stores: cut, it
        would name another claim, payer or member."""
        elements = segment.elements
        value = elements[index] if index < len(elements) else ""
        if len(value) > longest:
            self.error(
                segment, index, too_long(f"{name} ({segment.id}{index:02d})", value, longest)
            )
            return value[:longest]
        return value

    def date(self, segment: Segment, index: int) -> date | None:
        text = segment.get(index)
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
        except ValueError:
            self.warning(segment, index, f"{segment.id}{index:02d} {text!r} is not a valid date")
            return None


class AdjustmentLoop:
    """A CAS reason and amount while parsing (read by classification like an Adjustment)."""

    __slots__ = ("amount", "carc", "group")

    def __init__(self, group: GroupCode, carc: str, amount: Decimal) -> None:
        self.group, self.carc, self.amount = group, carc, amount

    @property
    def code(self) -> str:
        return f"{self.group.value}-{self.carc}"

    def model(self) -> Adjustment:
        return prevalidated(Adjustment, group=self.group, carc=self.carc, amount=self.amount)


class LineLoop:
    __slots__ = (
        "adjustments",
        "allowed",
        "billed",
        "control_number",
        "date",
        "modifiers",
        "paid",
        "procedure_code",
        "rarcs",
        "revenue_code",
        "submitted",
        "submitted_units",
        "units",
    )

    def __init__(
        self,
        procedure_code: str,
        modifiers: list[str],
        billed: Decimal,
        paid: Decimal,
        units: Decimal,
    ) -> None:
        self.procedure_code, self.modifiers = procedure_code, modifiers
        self.billed, self.paid, self.units = billed, paid, units
        self.adjustments: list[AdjustmentLoop] = []
        self.rarcs: list[str] = []
        self.date: date | None = None
        self.revenue_code = self.control_number = ""
        self.allowed: Decimal | None = None
        self.submitted: list[str] = []  # SVC06: the code and modifiers as billed
        self.submitted_units: Decimal | None = None

    def model(self, number: int) -> ServiceLine:
        return prevalidated(
            ServiceLine,
            line_number=number,
            procedure_code=self.procedure_code,
            modifiers=self.modifiers,
            service_date=self.date,
            billed_amount=self.billed,
            paid_amount=self.paid,
            units=self.units,
            adjustments=[adjustment.model() for adjustment in self.adjustments],
            rarcs=self.rarcs,
            revenue_code=self.revenue_code,
            control_number=self.control_number,
            allowed_amount=self.allowed,
            submitted_procedure_code=self.submitted[0] if self.submitted else "",
            submitted_modifiers=self.submitted[1:],
            submitted_units=self.submitted_units,
            diagnosis_pointers=[],
        )


class ClaimLoop:
    """Collects one CLP loop's segments into a claim."""

    def __init__(self, clp: Segment, problems: RemittanceProblems) -> None:
        self.clp = clp
        self.adjustments: list[AdjustmentLoop] = []
        self.rarcs: list[str] = []
        self.lines: list[LineLoop] = []
        self.patient_name = ""
        self.member_id = ""
        self.provider_npi = ""
        self.original_reference = ""
        self.period_start: date | None = None
        self.period_end: date | None = None
        self.received: date | None = None
        self.institutional = False
        status = clp.get(2)
        if status not in CLAIM_STATUSES:
            problems.error(clp, 2, f"CLP02 {status!r} is not a claim status code")
        self.claim_id = problems.text(clp, 1, 80, "patient control number")
        if not self.claim_id:
            problems.error(clp, 1, "CLP01 (patient control number) is missing")
        self.payer_claim_control_number = problems.text(clp, 7, 80, "payer claim control number")
        self.frequency_code = problems.text(clp, 9, 1, "claim frequency code") or "1"
        self.claim_status = status
        self.billed_amount = problems.amount(clp, 3)
        self.paid_amount = problems.amount(clp, 4)

    def all_adjustments(self) -> list[AdjustmentLoop]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]

    def all_claim_rarcs(self) -> list[str]:
        return list(dict.fromkeys(code.strip().upper() for code in self.rarcs))

    def all_rarcs(self) -> list[str]:
        codes = [*self.rarcs, *(code for line in self.lines for code in line.rarcs)]
        return list(dict.fromkeys(code.strip().upper() for code in codes if code.strip()))

    @property
    def service_lines(self) -> list[LineLoop]:
        return self.lines

    def release(self) -> None:
        """Drop the CLP segment once it is read: the claim is built (lazily) from what was
        read out of the segments, and a large remittance would keep one per claim."""
        del self.clp
