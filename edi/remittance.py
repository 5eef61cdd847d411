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
from domain.models import (
    Claim,
    ClaimType,
    DenialKind,
    DenialRecord,
    GroupCode,
    Patient,
    Payer,
)
from domain.prevalidated import prevalidated
from domain.remittance_rules import is_recoupment, payer_type_for
from domain.rulebook import Rulebook
from edi.claim_values import NpiReader
from edi.envelope import TransactionSet
from edi.problems import ProblemLog, ProblemSink, absorb
from edi.remittance_loops import (
    AdjustmentLoop,
    ClaimLoop,
    LineLoop,
    RemittanceProblems,
)
from edi.results import AdjudicatedClaim, CaseRecord
from edi.tokenizer import Delimiters, Segment

_GROUPS = {group.value: group for group in GroupCode}


class RemittanceParser:
    def __init__(self, rulebook: Rulebook, delimiters: Delimiters, source: str) -> None:
        self._rulebook = rulebook
        self._component = delimiters.component
        self._source = source
        self._payers: dict[tuple[str, str, str], Payer] = {}

    def parse(
        self, transaction: TransactionSet, problems: ProblemSink
    ) -> tuple[list[AdjudicatedClaim], list[CaseRecord]]:
        """A whole transaction set's claims and the records that open cases."""
        reading = self.reading(transaction, problems)
        # Each segment is let go once read (taken off the body from its end, the list reversed
        # first): a large remittance's segments would otherwise all stay until the last claim.
        segments = transaction.body
        segments.reverse()
        while segments:
            reading.feed(segments.pop())
        reading.finish()
        return reading.adjudicated, reading.cases

    def reading(self, transaction: TransactionSet, problems: ProblemSink) -> RemittanceReading:
        """A transaction set read a segment at a time (its body streamed, not collected)."""
        return RemittanceReading(self, transaction, problems)

    def _payer(self, payer_id: str, payer_name: str, filing_indicator: str) -> Payer:
        """One Payer per payer and claim filing indicator: claims share it."""
        key = (payer_id, payer_name, filing_indicator)
        payer = self._payers.get(key)
        if payer is None:
            payer = self._payers[key] = prevalidated(
                Payer,
                payer_id=payer_id,
                name=payer_name,
                type=payer_type_for(filing_indicator, payer_name),
            )
        return payer

    def _classify(self, claim: Claim, kind: DenialKind) -> Classification:
        return classify(claim, kind, self._rulebook.table, self._rulebook.profiles)

    def _claim_segment(
        self, builder: ClaimLoop, segment: Segment, report: RemittanceProblems, npis: NpiReader
    ) -> None:
        sid = segment.id
        lines = builder.lines
        line = lines[-1] if lines else None
        if sid == "CAS":
            target = line.adjustments if line is not None else builder.adjustments
            target.extend(self._adjustments(segment, report))
        elif sid == "SVC":
            self._service_line(builder, segment, report)
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
        elif sid == "AMT" and segment.get(1) == "B6" and line is not None:
            line.allowed = report.amount(segment, 2)
        elif sid == "REF" and segment.get(1) == "6R" and line is not None:
            line.control_number = report.text(segment, 2, 80, "line item control number")
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

    def _service_line(
        self, builder: ClaimLoop, segment: Segment, report: RemittanceProblems
    ) -> None:
        composite = segment.get(1).split(self._component)
        line = LineLoop(
            procedure_code=composite[1] if len(composite) > 1 else composite[0],
            modifiers=[m for m in composite[2:6] if m],
            billed=report.amount(segment, 2, required="warn"),
            paid=report.amount(segment, 3, required="warn"),
            units=report.amount(segment, 5) if segment.get(5) else Decimal(1),
        )
        if composite[0] == "NU":  # a revenue code alone (institutional)
            builder.institutional = True
            line.revenue_code = line.procedure_code[:48]
        else:
            line.revenue_code = segment.get(4).strip()[:48]
        # SVC06/07: what was billed, when the payer adjudicated another code or units.
        billed_as = segment.get(6).split(self._component)
        line.submitted = [part[:48] for part in billed_as[1:6] if part]
        if segment.get(7):
            line.submitted_units = report.amount(segment, 7)
        builder.lines.append(line)

    def _adjustments(self, segment: Segment, report: RemittanceProblems) -> list[AdjustmentLoop]:
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
                adjustments.append(AdjustmentLoop(group, carc, amount))
        if not adjustments:
            report.error(segment, 2, "CAS has no reason code")
        return adjustments

    def _service_period(
        self, builder: ClaimLoop, remittance_date: date | None, report: RemittanceProblems
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
        builder: ClaimLoop,
        payer: Payer,
        provider_npi: str,
        period: tuple[date, date | None],
        remittance: tuple[date | None, str, str],
    ) -> Claim:
        remittance_date, trace, payment_method = remittance
        return prevalidated(
            Claim,
            claim_id=builder.claim_id,
            payer_claim_control_number=builder.payer_claim_control_number,
            claim_status=builder.claim_status,
            claim_type=ClaimType.INSTITUTIONAL if builder.institutional else ClaimType.PROFESSIONAL,
            frequency_code=builder.frequency_code,
            payer=payer,
            patient=prevalidated(
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
            remittance_trace=trace[:80],
            payment_method=payment_method,
        )

    def _recoupments(
        self,
        plb: Segment,
        payer: tuple[str, str],
        remittance: tuple[date | None, str, str],
        report: RemittanceProblems,
    ) -> list[CaseRecord]:
        """One record per PLB reason and reference that takes money back, net of any
        adjustment the same segment reverses (payers often pair +x and -x)."""
        payer_id, payer_name = payer
        remittance_date, trace, payment_method = remittance
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
            claim = prevalidated(
                Claim,
                claim_id=reference or f"PLB-{plb.get(1)}-{fiscal_date.isoformat()}-{reason}",
                payer_claim_control_number=reference,
                claim_status="",
                claim_type=ClaimType.PROFESSIONAL,
                frequency_code="1",
                payer=self._payer(payer_id, payer_name, ""),
                patient=prevalidated(Patient, name="", member_id="", birth_date=None),
                provider_npi=plb.get(1) if len(plb.get(1)) == 10 else "",
                service_date_from=fiscal_date,
                service_date_to=None,
                billed_amount=Decimal(0),
                paid_amount=-amount,
                adjustments=[],
                rarcs=[],
                service_lines=[],
                remittance_date=remittance_date,
                remittance_trace=trace[:80],
                payment_method=payment_method,
            )
            record = prevalidated(
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
                prevalidated(
                    CaseRecord,
                    record=record,
                    classification=classification,
                    location=plb.location(index),
                )
            )
        return records


class RemittanceReading:
    """One 835 transaction set read a segment at a time: each claim is built once its loop
    ends (the next CLP or PLB, or the SE), into `adjudicated` and `cases`, which the caller
    may take as they fill. A claim's own problems (its dates) come after the segments' (as
    when the set is read whole), so they are kept aside until the set ends."""

    def __init__(
        self, parser: RemittanceParser, transaction: TransactionSet, problems: ProblemSink
    ) -> None:
        self._parser = parser
        self._transaction = transaction
        self._report = RemittanceProblems(problems)
        self._into = problems
        self._late = ProblemLog(problems.limit if isinstance(problems, ProblemLog) else None)
        self._claim_report = RemittanceProblems(self._late)
        self._npis = NpiReader(self._report)
        self._payer_name = self._payer_id = self._payee_npi = ""
        self._remittance_date: date | None = None
        self._production_date: date | None = None
        self._in_payer_loop = False
        self._builder: ClaimLoop | None = None
        self._plbs: list[Segment] = []
        self._trn_payer = self._trace = self._payment_method = ""
        self.adjudicated: list[AdjudicatedClaim] = []
        self.cases: list[CaseRecord] = []

    def feed(self, segment: Segment) -> None:
        sid, report = segment.id, self._report
        if self._builder is None:  # header: financial information, payer and payee
            if sid == "BPR":
                self._remittance_date = report.date(segment, 16)
                self._payment_method = segment.get(4).strip()[:3]
            elif sid == "TRN":
                self._trace, self._trn_payer = segment.get(2).strip(), segment.get(3)
            elif sid == "DTM" and segment.get(1) == "405":
                self._production_date = report.date(segment, 2)
            elif sid == "N1":
                self._in_payer_loop = segment.get(1) == "PR"
                if self._in_payer_loop:
                    self._payer_name = segment.get(2)
                    if segment.get(4):
                        self._payer_id = report.text(segment, 4, 80, "payer id")
                elif segment.get(1) == "PE" and segment.get(3) == "XX":
                    self._payee_npi = self._npis.read(segment, 4, "payee")
            elif sid == "REF" and self._in_payer_loop and segment.get(1) == "2U":
                self._payer_id = report.text(segment, 2, 80, "payer id")
        if sid == "CLP":
            self._close_claim()
            self._builder = ClaimLoop(segment, report)
        elif sid == "PLB":
            self._close_claim()
            self._plbs.append(segment)
        elif self._builder is not None:
            self._parser._claim_segment(self._builder, segment, report, self._npis)

    def finish(self) -> None:
        """The set has ended: its last claim, its recoupments, and the problems kept aside."""
        self._close_claim()
        remittance = (self._remittance_date_now(), self._trace, self._payment_method)
        for plb in self._plbs:
            self.cases.extend(
                self._parser._recoupments(
                    plb, (self._payer_id_now(), self._payer_name), remittance, self._claim_report
                )
            )
        absorb(self._into, self._late)

    def _remittance_date_now(self) -> date | None:
        return self._remittance_date or self._production_date or _group_date(self._transaction)

    def _payer_id_now(self) -> str:
        return self._payer_id or self._trn_payer or self._payer_name

    def _close_claim(self) -> None:
        builder, self._builder = self._builder, None
        if builder is None:
            return
        parser, report = self._parser, self._claim_report
        remittance_date, trace = self._remittance_date_now(), self._trace
        period = parser._service_period(builder, remittance_date, report)
        if period is None:
            return
        payer = parser._payer(self._payer_id_now(), self._payer_name, builder.clp.get(6))
        provider_npi = builder.provider_npi or self._payee_npi
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
            transaction=self._transaction.st.number,
            segment_number=builder.clp.number,
            build_claim=partial(
                parser._claim,
                builder,
                payer,
                provider_npi,
                period,
                (remittance_date, trace, self._payment_method),
            ),
        )
        self.adjudicated.append(item)
        builder.release()
        table = parser._rulebook.table
        maybe_denied = (
            kind is DenialKind.REVERSAL
            or builder.claim_status == "4"
            or table.any_denial(builder.all_adjustments())
        )
        if not maybe_denied:  # most claims: paid; classified on the light objects
            item.classification = classify(builder, kind, table, parser._rulebook.profiles)
            return
        claim = item.claim
        classification = item.classification = parser._classify(claim, kind)
        if classification.is_denial and classification.denied_amount > 0:
            record = prevalidated(
                DenialRecord,
                kind=kind,
                claim=claim,
                sequence=1,
                details=[],
                source=parser._source,
                distinguisher="",
                identified_by="",
            )
            self.cases.append(
                prevalidated(
                    CaseRecord, record=record, classification=classification, location=item.location
                )
            )


def _group_date(transaction: TransactionSet) -> date | None:
    text = transaction.group.date if transaction.group else ""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None
