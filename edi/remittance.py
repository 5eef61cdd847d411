"""835 health care claim payment/advice (005010X221A1): every CLP loop becomes a claim.

Each claim is classified by the domain rules: a denial (claim- or line-level, full or partial),
a reversal of an earlier payment (CLP02 = 22), or a claim that was simply paid. PLB
recoupments become records of their own. Built for throughput: claims are collected in light
objects, and the full pydantic models are built (without re-validation) only for the claims
that open cases, or when someone asks for a paid claim's details.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial

from domain.classification import Classification, classify
from domain.construct import build
from domain.models import (
    Adjustment,
    Claim,
    ClaimType,
    DenialKind,
    DenialRecord,
    GroupCode,
    Patient,
    Payer,
    ServiceLine,
)
from domain.remittance_rules import is_recoupment, payer_type_for
from domain.rulebook import Rulebook
from edi.claim_values import NpiReader, too_long
from edi.envelope import TransactionSet
from edi.problems import Problem, SegmentProblems
from edi.results import AdjudicatedClaim, CaseRecord
from edi.tokenizer import Delimiters, Segment

_GROUPS = {group.value: group for group in GroupCode}
_CLAIM_STATUSES = {"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"}


class _Problems(SegmentProblems):
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
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.error(segment, index, f"{segment.id}{index:02d} {text!r} is not an amount")
            return Decimal(0)
        return value

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


class _Adjustment:
    """A CAS reason and amount while parsing (read by classification like an Adjustment)."""

    __slots__ = ("amount", "carc", "group")

    def __init__(self, group: GroupCode, carc: str, amount: Decimal) -> None:
        self.group, self.carc, self.amount = group, carc, amount

    @property
    def code(self) -> str:
        return f"{self.group.value}-{self.carc}"

    def model(self) -> Adjustment:
        return build(Adjustment, group=self.group, carc=self.carc, amount=self.amount)


class _Line:
    __slots__ = (
        "adjustments",
        "billed",
        "date",
        "modifiers",
        "paid",
        "procedure_code",
        "rarcs",
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
        self.adjustments: list[_Adjustment] = []
        self.rarcs: list[str] = []
        self.date: date | None = None

    def model(self, number: int) -> ServiceLine:
        return build(
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
        )


class _ClaimBuilder:
    """Collects one CLP loop's segments into a claim."""

    def __init__(self, clp: Segment, problems: _Problems) -> None:
        self.clp = clp
        self.adjustments: list[_Adjustment] = []
        self.rarcs: list[str] = []
        self.lines: list[_Line] = []
        self.patient_name = ""
        self.member_id = ""
        self.provider_npi = ""
        self.original_reference = ""
        self.period_start: date | None = None
        self.period_end: date | None = None
        self.received: date | None = None
        self.institutional = False
        status = clp.get(2)
        if status not in _CLAIM_STATUSES:
            problems.error(clp, 2, f"CLP02 {status!r} is not a claim status code")
        self.claim_id = problems.text(clp, 1, 80, "patient control number")
        if not self.claim_id:
            problems.error(clp, 1, "CLP01 (patient control number) is missing")
        self.payer_claim_control_number = problems.text(clp, 7, 80, "payer claim control number")
        self.frequency_code = problems.text(clp, 9, 1, "claim frequency code") or "1"
        self.claim_status = status
        self.billed_amount = problems.amount(clp, 3)
        self.paid_amount = problems.amount(clp, 4)

    def all_adjustments(self) -> list[_Adjustment]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]

    def all_claim_rarcs(self) -> list[str]:
        return list(dict.fromkeys(code.strip().upper() for code in self.rarcs))

    def all_rarcs(self) -> list[str]:
        codes = [*self.rarcs, *(code for line in self.lines for code in line.rarcs)]
        return list(dict.fromkeys(code.strip().upper() for code in codes if code.strip()))

    @property
    def service_lines(self) -> list[_Line]:
        return self.lines


class RemittanceParser:
    def __init__(self, rulebook: Rulebook, delimiters: Delimiters, source: str) -> None:
        self._rulebook = rulebook
        self._component = delimiters.component
        self._source = source
        self._payers: dict[tuple[str, str, str], Payer] = {}

    def parse(
        self, transaction: TransactionSet, problems: list[Problem]
    ) -> tuple[list[AdjudicatedClaim], list[CaseRecord]]:
        report = _Problems(problems)
        npis = NpiReader(report)
        payer_name = payer_id = payee_npi = ""
        remittance_date: date | None = None
        production_date: date | None = None
        in_payer_loop = False
        builder: _ClaimBuilder | None = None
        builders: list[_ClaimBuilder] = []
        plbs: list[Segment] = []
        trn_payer = trace = ""
        for segment in transaction.body:
            sid = segment.id
            if builder is None:  # header: financial information, payer and payee
                if sid == "BPR":
                    remittance_date = report.date(segment, 16)
                elif sid == "TRN":
                    trace, trn_payer = segment.get(2).strip(), segment.get(3)
                elif sid == "DTM" and segment.get(1) == "405":
                    production_date = report.date(segment, 2)
                elif sid == "N1":
                    in_payer_loop = segment.get(1) == "PR"
                    if in_payer_loop:
                        payer_name = segment.get(2)
                        if segment.get(4):
                            payer_id = report.text(segment, 4, 80, "payer id")
                    elif segment.get(1) == "PE" and segment.get(3) == "XX":
                        payee_npi = npis.read(segment, 4, "payee")
                elif sid == "REF" and in_payer_loop and segment.get(1) == "2U":
                    payer_id = report.text(segment, 2, 80, "payer id")
            if sid == "CLP":
                builder = _ClaimBuilder(segment, report)
                builders.append(builder)
            elif sid == "PLB":
                plbs.append(segment)
                builder = None
            elif builder is not None:
                self._claim_segment(builder, segment, report, npis)
        if remittance_date is None:
            remittance_date = production_date or _group_date(transaction)
        payer_id = payer_id or trn_payer or payer_name
        adjudicated: list[AdjudicatedClaim] = []
        cases: list[CaseRecord] = []
        table = self._rulebook.table
        for builder in builders:
            period = self._service_period(builder, remittance_date, report)
            if period is None:
                continue
            payer = self._payer(payer_id, payer_name, builder.clp.get(6))
            provider_npi = builder.provider_npi or payee_npi
            kind = DenialKind.REVERSAL if builder.claim_status == "22" else DenialKind.DENIAL
            item = AdjudicatedClaim(
                claim_id=builder.claim_id,
                payer_claim_control_number=builder.payer_claim_control_number,
                claim_status=builder.claim_status,
                payer=payer,
                provider_npi=provider_npi,
                billed_amount=builder.billed_amount,
                paid_amount=builder.paid_amount,
                service_date=period[0],
                remittance_date=remittance_date,
                original_reference=builder.original_reference,
                remittance_trace=trace,
                transaction=transaction.st.number,
                segment=builder.clp,
                build_claim=partial(
                    self._claim, builder, payer, provider_npi, period, remittance_date
                ),
            )
            adjudicated.append(item)
            maybe_denied = (
                kind is DenialKind.REVERSAL
                or builder.claim_status == "4"
                or table.any_denial(builder.all_adjustments())
            )
            if not maybe_denied:  # most claims: paid; classified on the light objects
                item.classification = classify(builder, kind, table, self._rulebook.profiles)
                continue
            claim = item.claim
            classification = item.classification = self._classify(claim, kind)
            if classification.is_denial and classification.denied_amount > 0:
                record = build(
                    DenialRecord,
                    kind=kind,
                    claim=claim,
                    sequence=1,
                    details=[],
                    source=self._source,
                    distinguisher="",
                    identified_by="",
                )
                cases.append(
                    build(
                        CaseRecord,
                        record=record,
                        classification=classification,
                        location=item.location,
                    )
                )
        for plb in plbs:
            cases.extend(self._recoupments(plb, payer_id, payer_name, remittance_date, report))
        return adjudicated, cases

    def _payer(self, payer_id: str, payer_name: str, filing_indicator: str) -> Payer:
        """One Payer per payer and claim filing indicator: claims share it."""
        key = (payer_id, payer_name, filing_indicator)
        payer = self._payers.get(key)
        if payer is None:
            payer = self._payers[key] = build(
                Payer,
                payer_id=payer_id,
                name=payer_name,
                type=payer_type_for(filing_indicator, payer_name),
            )
        return payer

    def _classify(self, claim: Claim, kind: DenialKind) -> Classification:
        return classify(claim, kind, self._rulebook.table, self._rulebook.profiles)

    def _claim_segment(
        self, builder: _ClaimBuilder, segment: Segment, report: _Problems, npis: NpiReader
    ) -> None:
        sid = segment.id
        lines = builder.lines
        line = lines[-1] if lines else None
        if sid == "CAS":
            target = line.adjustments if line is not None else builder.adjustments
            target.extend(self._adjustments(segment, report))
        elif sid == "SVC":
            composite = segment.get(1).split(self._component)
            if composite[0] == "NU":
                builder.institutional = True
            builder.lines.append(
                _Line(
                    procedure_code=composite[1] if len(composite) > 1 else composite[0],
                    modifiers=[m for m in composite[2:6] if m],
                    billed=report.amount(segment, 2, required="warn"),
                    paid=report.amount(segment, 3, required="warn"),
                    units=report.amount(segment, 5) if segment.get(5) else Decimal(1),
                )
            )
        elif sid == "DTM":
            qualifier = segment.get(1)
            if line is not None and qualifier in ("472", "150"):
                line.date = report.date(segment, 2)
            elif qualifier == "232":
                builder.period_start = report.date(segment, 2)
            elif qualifier == "233":
                builder.period_end = report.date(segment, 2)
            elif qualifier == "050":
                builder.received = report.date(segment, 2)
        elif sid == "LQ" and segment.get(1) == "HE" and line is not None:
            line.rarcs.append(segment.get(2).strip().upper())
        elif sid == "MOA":
            builder.rarcs.extend(code for code in segment.elements[3:8] if code)
        elif sid == "MIA":
            builder.institutional = True
            builder.rarcs.extend(segment.get(i) for i in (5, 20, 21, 22, 23) if segment.get(i))
        elif sid == "NM1":
            entity = segment.get(1)
            if entity == "QC":
                builder.patient_name = " ".join(
                    part for part in (segment.get(4), segment.get(5), segment.get(3)) if part
                )[:200]
                builder.member_id = builder.member_id or report.text(segment, 9, 80, "member id")
            elif entity == "IL":
                builder.member_id = report.text(segment, 9, 80, "member id")
            elif entity == "82" and segment.get(8) == "XX":
                builder.provider_npi = npis.read(segment, 9, "rendering provider")
        elif sid == "REF" and segment.get(1) == "F8" and line is None:
            builder.original_reference = report.text(segment, 2, 80, "original reference number")

    def _adjustments(self, segment: Segment, report: _Problems) -> list[_Adjustment]:
        elements = segment.elements
        group = _GROUPS.get(elements[1]) if len(elements) > 1 else None
        if group is None:
            report.error(
                segment, 1, f"CAS01 {segment.get(1)!r} is not a group code (CO, PR, OA, PI, CR)"
            )
            return []
        adjustments = []
        for reason_index in range(2, min(len(elements), 20), 3):
            carc = elements[reason_index].strip().upper()
            if len(carc) > 5:
                report.error(segment, reason_index, f"CAS{reason_index:02d} {carc!r} is not a CARC")
            elif carc:
                try:  # the common case, inline: a finite amount
                    amount = Decimal(elements[reason_index + 1])
                    if not amount.is_finite():
                        raise InvalidOperation
                except (InvalidOperation, IndexError):
                    amount = report.amount(segment, reason_index + 1)
                adjustments.append(_Adjustment(group, carc, amount))
        if not adjustments:
            report.error(segment, 2, "CAS has no reason code")
        return adjustments

    def _service_period(
        self, builder: _ClaimBuilder, remittance_date: date | None, report: _Problems
    ) -> tuple[date, date | None] | None:
        """From DTM*232/233, else the lines' dates, else (with a warning) when received."""
        clp = builder.clp
        line_dates = [line.date for line in builder.lines if line.date is not None]
        start = builder.period_start or (min(line_dates) if line_dates else None)
        end = builder.period_end or (max(line_dates) if line_dates else None)
        if start is None:
            start = builder.received or remittance_date
            report.warning(
                clp,
                None,
                f"claim {builder.claim_id} has no service date (DTM*232 or DTM*472): timely "
                "filing is counted from the date the payer received it",
            )
        if start is None:
            report.error(
                clp,
                None,
                f"claim {builder.claim_id} has no date to count timely filing from: no service "
                "date (DTM*232 or DTM*472), received date (DTM*050) or remittance date (BPR16, "
                "DTM*405 or GS04)",
            )
            return None
        return start, end if end != start else None

    def _claim(
        self,
        builder: _ClaimBuilder,
        payer: Payer,
        provider_npi: str,
        period: tuple[date, date | None],
        remittance_date: date | None,
    ) -> Claim:
        return build(
            Claim,
            claim_id=builder.claim_id,
            payer_claim_control_number=builder.payer_claim_control_number,
            claim_status=builder.claim_status,
            claim_type=ClaimType.INSTITUTIONAL if builder.institutional else ClaimType.PROFESSIONAL,
            frequency_code=builder.frequency_code,
            payer=payer,
            patient=build(
                Patient, name=builder.patient_name, member_id=builder.member_id, birth_date=None
            ),
            provider_npi=provider_npi,
            service_date_from=period[0],
            service_date_to=period[1],
            billed_amount=builder.billed_amount,
            paid_amount=builder.paid_amount,
            adjustments=[adjustment.model() for adjustment in builder.adjustments],
            rarcs=builder.all_claim_rarcs(),
            service_lines=[line.model(number) for number, line in enumerate(builder.lines, 1)],
            remittance_date=remittance_date,
        )

    def _recoupments(
        self,
        plb: Segment,
        payer_id: str,
        payer_name: str,
        remittance_date: date | None,
        report: _Problems,
    ) -> list[CaseRecord]:
        """One record per PLB reason and reference that takes money back, net of any
        adjustment the same segment reverses (payers often pair +x and -x)."""
        fiscal_date = report.date(plb, 2) or remittance_date
        totals: dict[tuple[str, str], tuple[Decimal, int]] = {}
        for index in range(3, 15, 2):
            if plb.get(index):
                reason, _, reference = plb.get(index).partition(self._component)
                if len(reference) > 80:
                    report.error(plb, index, f"PLB{index:02d} reference is over 80 characters")
                    reference = reference[:80]
                amount, first = totals.get((reason, reference), (Decimal(0), index))
                totals[(reason, reference)] = (amount + report.amount(plb, index + 1), first)
        records = []
        for (reason, reference), (amount, index) in totals.items():
            if not is_recoupment(reason, float(amount)) or fiscal_date is None:
                continue
            claim = build(
                Claim,
                claim_id=reference or f"PLB-{plb.get(1)}-{fiscal_date.isoformat()}-{reason}",
                payer_claim_control_number=reference,
                claim_status="",
                claim_type=ClaimType.PROFESSIONAL,
                frequency_code="1",
                payer=self._payer(payer_id, payer_name, ""),
                patient=build(Patient, name="", member_id="", birth_date=None),
                provider_npi=plb.get(1) if len(plb.get(1)) == 10 else "",
                service_date_from=fiscal_date,
                service_date_to=None,
                billed_amount=Decimal(0),
                paid_amount=-amount,
                adjustments=[],
                rarcs=[],
                service_lines=[],
                remittance_date=remittance_date,
            )
            record = build(
                DenialRecord,
                kind=DenialKind.RECOUPMENT,
                claim=claim,
                sequence=1,
                details=[
                    f"PLB {reason}{f' reference {reference}' if reference else ''}: ${amount}"
                ],
                source=self._source,
                distinguisher="",
                identified_by="",
            )
            classification = self._classify(claim, DenialKind.RECOUPMENT)
            records.append(
                build(
                    CaseRecord,
                    record=record,
                    classification=classification,
                    location=plb.location(index),
                )
            )
        return records


def _group_date(transaction: TransactionSet) -> date | None:
    text = transaction.group.date if transaction.group else ""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None
