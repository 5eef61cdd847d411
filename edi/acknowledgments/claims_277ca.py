"""The 277CA claim acknowledgment (005010X214): a claim rejected when its STC category is A3,
A4, A6, A7 or A8 (at the claim or one of its lines)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.models import (
    SERVICE_DATE_UNKNOWN,
    Claim,
    ClaimType,
    Patient,
    Payer,
    ServiceLine,
)
from domain.remittance_detail import STATUS_CATEGORIES
from domain.remittance_rules import payer_type_for
from domain.rulebook import Rulebook
from edi.acknowledgments.codes import ENTITY_NAMES, REJECTION_CATEGORIES
from edi.acknowledgments.common import (
    AckReport,
    build_checked,
    ccyymmdd,
    envelope_date,
    rejection_case,
)
from edi.claim_values import NpiReader, Source
from edi.envelope import TransactionSet
from edi.problems import ProblemSink
from edi.results import AcknowledgedClaim, CaseRecord
from edi.tokenizer import Delimiters, Segment

_HL_LEVELS = {"20": "information source", "21": "information receiver", "19": "billing provider"}
_HL_PATIENT = "PT"

NAME_LENGTH = 200  # Patient.name; a longer name is cut, as the 835 reader does


@dataclass
class _Status:
    """One STC composite (STC01, STC10 or STC11): category, status and entity."""

    segment: Segment
    element: int
    category: str
    status: str
    entity: str

    @property
    def rejected(self) -> bool:
        return self.category in REJECTION_CATEGORIES

    @property
    def code(self) -> str:
        return ":".join(part for part in (self.category, self.status, self.entity) if part)

    def describe(self) -> str:
        meaning = STATUS_CATEGORIES.get(self.category, "unknown category")
        extra = []
        if self.status:
            extra.append(f"status {self.status}")
        if self.entity:
            name = ENTITY_NAMES.get(self.entity)
            extra.append(f"entity {self.entity}{f' {name}' if name else ''}")
        suffix = f" ({', '.join(extra)})" if extra else ""
        return f"277CA STC {self.code} — {meaning}{suffix}"


@dataclass
class _Line:
    svc: Segment
    procedure_code: str
    modifiers: list[str]
    billed: Decimal
    service_date: date | None = None
    statuses: list[_Status] = field(default_factory=list)


@dataclass
class _AckClaim:
    trn: Segment
    patient: _HlNode
    statuses: list[_Status] = field(default_factory=list)
    stc_segments: list[Segment] = field(default_factory=list)
    payer_claim_number: str = ""
    payer_claim_ref: Segment | None = None  # the REF*1K it came from
    clearinghouse_trace: str = ""
    bill_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    lines: list[_Line] = field(default_factory=list)


@dataclass
class _HlNode:
    hl: Segment
    level: str
    parent: _HlNode | None
    nm1: Segment | None = None  # the entity's name, where `name` and `identifier` came from
    name: str = ""
    identifier: str = ""
    statuses: list[_Status] = field(default_factory=list)
    claims: list[_AckClaim] = field(default_factory=list)
    member_id: str = ""

    def ancestor(self, level: str) -> _HlNode | None:
        node: _HlNode | None = self
        while node is not None and node.level != level:
            node = node.parent
        return node

    def label(self) -> str:
        what = _HL_LEVELS.get(self.level, f"HL level {self.level}")
        named = f" {self.name}" if self.name else ""
        ident = f" ({'NPI ' if self.level == '19' else 'id '}{self.identifier})"
        return f"{what}{named}{ident if self.identifier else ''}"


def _nm1_name(segment: Segment) -> str:
    """NM104 NM105 NM103 for a person (NM102 = 1), else NM103 (an organisation)."""
    if segment.get(2) == "1":
        parts = (segment.get(4), segment.get(5), segment.get(3))
        return " ".join(part for part in parts if part)
    return segment.get(3)


class ClaimAcknowledgmentParser:
    """277CA: walks the HL hierarchy information source (20) > receiver (21) > billing provider
    (19) > patient (PT), one claim per TRN in a patient loop."""

    def __init__(self, rulebook: Rulebook, delimiters: Delimiters, source: str) -> None:
        self._rulebook = rulebook
        self._component = delimiters.component
        self._source = source[:200]

    def parse(
        self, transaction: TransactionSet, problems: ProblemSink
    ) -> tuple[list[AcknowledgedClaim], list[CaseRecord]]:
        report = AckReport(problems)
        npis = NpiReader(report)
        nodes: list[_HlNode] = []
        by_id: dict[str, _HlNode] = {}
        node: _HlNode | None = None
        claim: _AckClaim | None = None
        line: _Line | None = None
        created: date | None = None
        for segment in transaction.body:
            sid = segment.id
            if sid == "BHT":
                created = ccyymmdd(segment.get(4))
                continue
            if sid == "HL":
                node = self._hl(segment, nodes, by_id, report)
                claim, line = None, None
                continue
            if node is None:
                report.error(segment, None, f"{sid} segment before the first HL of the 277CA")
                continue
            if sid == "NM1":
                self._nm1(node, segment, npis)
            elif sid == "TRN":
                if node.level == _HL_PATIENT:
                    if segment.get(1) != "2":
                        report.warning(
                            segment, 1, f"TRN01 {segment.get(1)!r} in a claim loop: expected 2"
                        )
                    claim = _AckClaim(trn=segment, patient=node)
                    node.claims.append(claim)
                    line = None
                    if not segment.get(2).strip():
                        report.error(
                            segment, 2, "TRN02 (the claim's patient control number) is missing"
                        )
            elif sid == "STC":
                statuses = self._statuses(segment, report)
                if node.level != _HL_PATIENT:
                    node.statuses.extend(statuses)
                elif claim is None:
                    pass  # reported once for the patient loop: it has no TRN
                elif line is not None:
                    line.statuses.extend(statuses)
                else:
                    claim.statuses.extend(statuses)
                    claim.stc_segments.append(segment)
            elif claim is not None:
                line = self._claim_segment(claim, line, segment, report)
        for patient in (n for n in nodes if n.level == _HL_PATIENT and not n.claims):
            report.error(
                patient.hl,
                None,
                f"patient HL {patient.hl.get(1)} has no TRN (claim status tracking number): "
                "its claim cannot be identified",
            )
        self._upper_level_rejections(nodes, report)
        fallback = created or envelope_date(transaction)
        acknowledged: list[AcknowledgedClaim] = []
        cases: list[CaseRecord] = []
        for item in (c for n in nodes for c in n.claims):
            self._finish(item, fallback, report, acknowledged, cases)
        return acknowledged, cases

    # -- walking --

    def _hl(
        self,
        segment: Segment,
        nodes: list[_HlNode],
        by_id: dict[str, _HlNode],
        report: AckReport,
    ) -> _HlNode:
        level = segment.get(3)
        if level not in _HL_LEVELS and level != _HL_PATIENT:
            report.error(
                segment,
                3,
                f"HL03 {level!r} is not a 277CA level (20 information source, 21 receiver, "
                "19 billing provider, PT patient)",
            )
        parent_level = {"21": "20", "19": "21", _HL_PATIENT: "19"}.get(level)
        parent = by_id.get(segment.get(2))
        if parent is None and parent_level is not None:
            parent = next((n for n in reversed(nodes) if n.level == parent_level), None)
            if segment.get(2):
                report.warning(
                    segment, 2, f"HL02 {segment.get(2)!r} names no earlier HL: parent assumed"
                )
        node = _HlNode(hl=segment, level=level, parent=parent)
        if segment.get(1):
            by_id[segment.get(1)] = node
        nodes.append(node)
        return node

    @staticmethod
    def _nm1(node: _HlNode, segment: Segment, npis: NpiReader) -> None:
        entity = segment.get(1)
        expected = {"20": "PR", "21": "41", "19": "85", _HL_PATIENT: "QC"}.get(node.level)
        if entity != expected and not (node.level == _HL_PATIENT and entity == "IL"):
            return
        node.nm1 = segment
        node.name = _nm1_name(segment)[:NAME_LENGTH]
        if node.level == _HL_PATIENT:
            node.member_id = segment.get(9)
        elif node.level != "19":
            node.identifier = segment.get(9)
        elif segment.get(8) == "XX":
            node.identifier = npis.read(segment, 9, "billing provider")

    def _statuses(self, segment: Segment, report: AckReport) -> list[_Status]:
        statuses = []
        for index in (1, 10, 11):
            # A composite without a category only loses a status: a claim none of whose
            # composites has one is refused by _finish.
            composite = segment.get(index)
            if not composite:
                if index == 1:
                    report.warning(segment, 1, "STC01 (claim status category) is missing: ignored")
                continue
            parts = [*composite.split(self._component), "", ""]
            category = parts[0].strip().upper()
            if not category:
                report.warning(
                    segment,
                    index,
                    f"STC{index:02d} {composite!r} has no status category code: ignored",
                )
                continue
            if category not in STATUS_CATEGORIES:
                report.warning(
                    segment,
                    index,
                    f"STC{index:02d} category {category!r} is not a 277CA acknowledgment "
                    "category (A0-A8): not counted as a rejection",
                )
            statuses.append(
                _Status(segment, index, category, parts[1].strip(), parts[2].strip().upper())
            )
        return statuses

    def _claim_segment(
        self, claim: _AckClaim, line: _Line | None, segment: Segment, report: AckReport
    ) -> _Line | None:
        sid = segment.id
        if sid == "SVC":
            composite = segment.get(1).split(self._component)
            line = _Line(
                svc=segment,
                procedure_code=composite[1] if len(composite) > 1 else composite[0],
                modifiers=[m for m in composite[2:6] if m],
                billed=report.amount(segment, 2) or Decimal(0),
            )
            claim.lines.append(line)
        elif sid == "REF" and line is None:
            qualifier, value = segment.get(1), segment.get(2)
            if qualifier == "1K":
                claim.payer_claim_number, claim.payer_claim_ref = value, segment
            elif qualifier == "D9":
                claim.clearinghouse_trace = value
            elif qualifier == "BLT":
                claim.bill_type = value
        elif sid == "DTP" and segment.get(1) == "472":
            start, end = self._period(segment, report)
            if line is not None:
                line.service_date = start
            else:
                claim.date_from, claim.date_to = start, end
        return line

    @staticmethod
    def _period(segment: Segment, report: AckReport) -> tuple[date | None, date | None]:
        qualifier, text = segment.get(2), segment.get(3)
        if qualifier == "RD8":
            first, _, last = text.partition("-")
            start, end = ccyymmdd(first), ccyymmdd(last)
            ok = start is not None and end is not None and start <= end
        else:
            start = end = ccyymmdd(text)
            ok = qualifier == "D8" and start is not None
        if not ok:
            report.warning(
                segment,
                3,
                f"DTP*472 {qualifier} {text!r} is not a valid service date"
                + (" (expected D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD)" if qualifier else ""),
            )
            return None, None
        return start, end

    def _upper_level_rejections(self, nodes: list[_HlNode], report: AckReport) -> None:
        """A receiver or billing provider rejected with no claim below it: nothing to open a
        case on, but someone has to know."""
        has_claims = {id(n) for n in nodes if n.claims}
        for patient in (n for n in nodes if n.level == _HL_PATIENT and n.claims):
            ancestor = patient.parent
            while ancestor is not None:
                has_claims.add(id(ancestor))
                ancestor = ancestor.parent
        for node in nodes:
            if node.level == _HL_PATIENT or id(node) in has_claims:
                continue
            for status in (s for s in node.statuses if s.rejected):
                report.warning(
                    status.segment,
                    status.element,
                    f"277CA rejected the {node.label()} with no claim below it: "
                    f"{status.describe()}",
                )

    # -- building --

    def _finish(
        self,
        item: _AckClaim,
        fallback: date | None,
        report: AckReport,
        acknowledged: list[AcknowledgedClaim],
        cases: list[CaseRecord],
    ) -> None:
        claim_id = item.trn.get(2).strip()
        if not claim_id:
            return  # reported: TRN02 missing
        if not item.stc_segments:
            report.error(
                item.trn,
                None,
                f"claim {claim_id} has no STC claim status: accepted or rejected is unknown",
            )
            return
        if not item.statuses:
            report.error(
                item.stc_segments[0],
                1,
                f"claim {claim_id} has no status category in its STC: accepted or rejected is "
                "unknown",
            )
            return
        statuses = item.statuses + [s for line in item.lines for s in line.statuses]
        rejecting = [s for s in statuses if s.rejected]
        deciding = rejecting[0] if rejecting else item.statuses[0]
        location = deciding.segment.location(deciding.element)
        first_stc = item.stc_segments[0]
        billed = next(
            (a for a in (report.amount(s, 4) for s in item.stc_segments) if a is not None), None
        )
        if billed is None:
            report.warning(
                first_stc, 4, f"claim {claim_id} has no STC04 total claim charge: amount 0"
            )
            billed = Decimal(0)
        start, end = item.date_from, item.date_to
        line_dates = [line.service_date for line in item.lines if line.service_date]
        if start is None and line_dates:
            start, end = min(line_dates), max(line_dates)
        service_date_known = start is not None
        if start is None:
            status_date = ccyymmdd(first_stc.get(2))
            start = status_date or fallback
            what = "the STC02 status date" if status_date else "the 277CA's date"
            report.warning(
                first_stc,
                2 if status_date else None,
                f"claim {claim_id} has no service date (DTP*472): timely filing is counted "
                f"from {what}" + (f" {start.isoformat()}" if start else ""),
            )
        if start is None:
            report.error(
                item.trn,
                None,
                f"claim {claim_id} has no date to count timely filing from: no service date "
                "(DTP*472), status date (STC02) or 277CA date (BHT04, GS04 or ISA09)",
            )
            return
        claim = build_checked(
            report,
            item.trn,
            f"claim {claim_id}",
            lambda: self._claim(item, billed, start, end, fallback, deciding),
            self._sources(item, deciding, first_stc),
        )
        if claim is None:
            return
        details = self._details(item, rejecting)
        if rejecting and not service_date_known:
            details.append(SERVICE_DATE_UNKNOWN)
        acknowledged.append(
            AcknowledgedClaim(
                claim=claim, accepted=not rejecting, details=details, location=location
            )
        )
        if rejecting:
            cases.append(rejection_case(claim, details, self._source, self._rulebook, location))

    def _claim(
        self,
        item: _AckClaim,
        billed: Decimal,
        start: date,
        end: date | None,
        fallback: date | None,
        deciding: _Status,
    ) -> Claim:
        patient = item.patient
        payer_node = patient.ancestor("20")
        provider = patient.ancestor("19")
        payer_name = payer_node.name if payer_node else ""
        payer_id = (payer_node.identifier if payer_node else "") or payer_name
        bill_type = item.bill_type.strip()
        frequency = bill_type[-1] if bill_type[-1:].isdigit() else "1"
        return Claim(
            claim_id=item.trn.get(2).strip(),
            payer_claim_control_number=item.payer_claim_number,
            claim_status=deciding.category,
            claim_type=ClaimType.INSTITUTIONAL if bill_type else ClaimType.PROFESSIONAL,
            frequency_code=frequency,
            payer=Payer(
                payer_id=payer_id or "unknown",
                name=payer_name,
                type=payer_type_for("", payer_name),
            ),
            patient=Patient(name=patient.name, member_id=patient.member_id),
            provider_npi=provider.identifier if provider else "",
            service_date_from=start,
            service_date_to=end if end != start else None,
            billed_amount=billed,
            paid_amount=Decimal(0),
            service_lines=[
                ServiceLine(
                    line_number=number,
                    procedure_code=line.procedure_code,
                    modifiers=line.modifiers,
                    service_date=line.service_date,
                    billed_amount=line.billed,
                )
                for number, line in enumerate(item.lines, start=1)
            ],
            remittance_date=fallback,
        )

    @staticmethod
    def _sources(item: _AckClaim, deciding: _Status, first_stc: Segment) -> dict[str, Source]:
        """Where each claim field read from a segment came from."""
        sources = {
            "claim_id": Source(item.trn, 2),
            "claim_status": Source(deciding.segment, deciding.element),
            "billed_amount": Source(first_stc, 4),
        }
        if item.payer_claim_ref is not None:
            sources["payer_claim_control_number"] = Source(item.payer_claim_ref, 2)
        patient = item.patient
        if patient.nm1 is not None:
            sources["patient.member_id"] = Source(patient.nm1, 9)
        payer = patient.ancestor("20")
        if payer is not None and payer.nm1 is not None:
            sources["payer.payer_id"] = (
                Source(payer.nm1, 9)
                if payer.identifier
                else Source(payer.nm1, 3, "payer name (the payer id, NM109 being empty)")
            )
        provider = patient.ancestor("19")
        if provider is not None and provider.nm1 is not None:
            sources["provider_npi"] = Source(provider.nm1, 9, "billing provider NPI")
        return sources

    @staticmethod
    def _details(item: _AckClaim, rejecting: list[_Status]) -> list[str]:
        shown = rejecting or item.statuses
        details = []
        for status in shown:
            line_number = next(
                (n for n, line in enumerate(item.lines, 1) if status in line.statuses), None
            )
            prefix = ""
            if line_number is not None:
                line = item.lines[line_number - 1]
                prefix = f"service line {line_number} ({line.procedure_code}): "
            details.append(prefix + status.describe())
        messages = dict.fromkeys(
            s.segment.get(12).strip() for s in shown if s.segment.get(12).strip()
        )
        details.extend(f"payer message: {text}" for text in messages)
        if rejecting and item.clearinghouse_trace:
            details.append(f"clearinghouse trace number (REF*D9): {item.clearinghouse_trace}")
        return details


# --- 999 --------------------------------------------------------------------------------------
