"""277CA claim acknowledgment (005010X214) and 999 implementation acknowledgment (005010X231A1).

Both report claims that never entered adjudication: a 277CA one claim at a time (STC category
A3, A4, A6, A7 or A8), a 999 a whole 837 transaction set (IK5 R, M, W or X) or a whole functional
group (AK9 R with no AK2 loop). Each rejection becomes an acknowledged claim that is not accepted
and a case record of kind REJECTION; accepted claims are counted, and open nothing.

A rejected claim is not filed: the payer's timely-filing clock keeps running. A 999 does not
carry the claim's service date or amount, so its records use the acknowledgment's date (the
clock is counted from it until the 837 is linked) and an amount of 0.

A value the implementation guide disallows (a code, a position, a reference number, an NPI) is
a warning: refusing the file would keep its rejections from their cases. Errors are kept for
what leaves a claim unreadable: its loop structure, its id, whether it was accepted, a date to
count timely filing from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from pydantic import ValidationError

from domain.classification import classify
from domain.models import (
    SERVICE_DATE_UNKNOWN,
    Claim,
    ClaimType,
    DenialKind,
    DenialRecord,
    Patient,
    Payer,
    PayerType,
    ServiceLine,
)
from domain.remittance_detail import STATUS_CATEGORIES
from domain.remittance_rules import payer_type_for
from domain.rulebook import Rulebook
from edi.claim_values import NpiReader, Source, refusal, too_long
from edi.envelope import TransactionSet
from edi.problems import ProblemSink, SegmentProblems
from edi.results import AcknowledgedClaim, CaseRecord
from edi.tokenizer import Delimiters, Segment

# --- 277CA code meanings (005010X214) ---------------------------------------------------------

# STC01-1 / STC10-1 / STC11-1 claim status category codes of the acknowledgment (A) family.
REJECTION_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})

# STC01-3 entity identifier codes commonly found in a 277CA.
ENTITY_NAMES: dict[str, str] = {
    "03": "dependent",
    "1P": "provider",
    "2B": "third-party administrator",
    "36": "employer",
    "40": "receiver",
    "41": "submitter",
    "71": "attending physician",
    "72": "operating physician",
    "73": "other physician",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "87": "pay-to provider",
    "DK": "ordering physician",
    "DN": "referring provider",
    "DQ": "supervising physician",
    "FA": "facility",
    "GB": "other insured",
    "HK": "subscriber",
    "IL": "insured or subscriber",
    "PR": "payer",
    "QC": "patient",
    "TU": "third-party repricing organization",
}

_HL_LEVELS = {"20": "information source", "21": "information receiver", "19": "billing provider"}
_HL_PATIENT = "PT"

# --- 999 code meanings (005010X231A1) ---------------------------------------------------------

SEGMENT_ERRORS: dict[str, str] = {  # IK304
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}
ELEMENT_ERRORS: dict[str, str] = {  # IK403
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing",
    "I10": "implementation 'not used' data element present",
    "I11": "implementation too few repetitions",
    "I12": "implementation pattern match failure",
    "I13": "implementation dependent 'not used' data element present",
}
SET_ACK_CODES: dict[str, str] = {  # IK501
    "A": "accepted",
    "E": "accepted with errors",
    "M": "rejected: message authentication code failed",
    "R": "rejected",
    "W": "rejected: assurance failed validity tests",
    "X": "rejected: content after decryption could not be analysed",
}
GROUP_ACK_CODES: dict[str, str] = {  # AK901: the IK501 codes plus P
    **SET_ACK_CODES,
    "P": "partially accepted: at least one transaction set was rejected",
}
REJECTED_ACK_CODES = frozenset({"M", "R", "W", "X"})
SET_ERRORS: dict[str, str] = {  # IK502-IK506
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "18": "transaction set not in functional group",
    "19": "invalid transaction set implementation convention reference",
    "23": "transaction set control number not unique within the functional group",
    "I5": "implementation one or more segments in error",
    "I6": "implementation convention not supported",
}
GROUP_ERRORS: dict[str, str] = {  # AK905-AK909
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in the functional group header and trailer do not agree",
    "5": "number of included transaction sets does not match actual count",
    "6": "group control number violates syntax",
    "19": "functional group control number not unique within interchange",
}

_AK2_MAX_ELEMENTS = 3
_CLAIM_ID_LENGTH = 80  # Claim.claim_id
_NAME_LENGTH = 200  # Patient.name; a longer name is cut, as the 835 reader does
_T = TypeVar("_T")


# --- shared helpers ---------------------------------------------------------------------------


class _Report(SegmentProblems):
    """Problems of a 277CA or 999, with its element readers."""

    def amount(self, segment: Segment, index: int) -> Decimal | None:
        text = segment.get(index).strip()
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.error(segment, index, f"{segment.id}{index:02d} {text!r} is not an amount")
            return None
        return value


def _ccyymmdd(text: str) -> date | None:
    """A CCYYMMDD date, or None when it is not one (years before 1900 are not plausible)."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        value = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return value if value.year >= 1900 else None


def _envelope_date(transaction: TransactionSet) -> date | None:
    """GS04 (CCYYMMDD), else ISA09 (YYMMDD, read as 20YY)."""
    if transaction.group is not None:
        found = _ccyymmdd(transaction.group.date)
        if found is not None:
            return found
    if transaction.interchange is not None and len(transaction.interchange.date) == 6:
        return _ccyymmdd("20" + transaction.interchange.date)
    return None


def _build(
    report: _Report,
    at: Segment,
    what: str,
    build: Callable[[], _T],
    sources: Mapping[str, Source] | None = None,
) -> _T | None:
    """Build models with validation, the last check of values read: a value the models refuse
    is an error in words, at the segment element it was read from (`sources`, by field path)
    or else at `at`."""
    try:
        return build()
    except ValidationError as exc:
        path, message = refusal(exc, sources or {})
        source = (sources or {}).get(path) or Source(at, None)
        report.error(source.segment, source.element, f"{what}: {message}")
        return None


# --- 277CA ------------------------------------------------------------------------------------


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
        report = _Report(problems)
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
                created = _ccyymmdd(segment.get(4))
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
        fallback = created or _envelope_date(transaction)
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
        report: _Report,
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
        node.name = _nm1_name(segment)[:_NAME_LENGTH]
        if node.level == _HL_PATIENT:
            node.member_id = segment.get(9)
        elif node.level != "19":
            node.identifier = segment.get(9)
        elif segment.get(8) == "XX":
            node.identifier = npis.read(segment, 9, "billing provider")

    def _statuses(self, segment: Segment, report: _Report) -> list[_Status]:
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
        self, claim: _AckClaim, line: _Line | None, segment: Segment, report: _Report
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
    def _period(segment: Segment, report: _Report) -> tuple[date | None, date | None]:
        qualifier, text = segment.get(2), segment.get(3)
        if qualifier == "RD8":
            first, _, last = text.partition("-")
            start, end = _ccyymmdd(first), _ccyymmdd(last)
            ok = start is not None and end is not None and start <= end
        else:
            start = end = _ccyymmdd(text)
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

    def _upper_level_rejections(self, nodes: list[_HlNode], report: _Report) -> None:
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
        report: _Report,
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
            status_date = _ccyymmdd(first_stc.get(2))
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
        claim = _build(
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
            record = DenialRecord(
                kind=DenialKind.REJECTION,
                claim=claim,
                sequence=1,
                details=details,
                source=self._source,
            )
            classification = classify(
                claim, DenialKind.REJECTION, self._rulebook.table, self._rulebook.profiles
            )
            cases.append(
                CaseRecord(record=record, classification=classification, location=location)
            )

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


@dataclass
class _ErrorLoop:
    """One IK3 loop: the segment in error, its element notes and contexts."""

    ik3: Segment
    lines: list[str] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)


@dataclass
class _SetLoop:
    ak2: Segment
    errors: list[_ErrorLoop] = field(default_factory=list)
    ik5: Segment | None = None
    code: str | None = None  # a valid IK501


class FunctionalAcknowledgmentParser:
    """999: every AK2 loop acknowledges one 837 transaction set of the group named in AK1."""

    def __init__(self, rulebook: Rulebook, delimiters: Delimiters, source: str) -> None:
        self._rulebook = rulebook
        self._component = delimiters.component
        self._repetition = delimiters.repetition
        self._source = source[:200]

    def parse(
        self, transaction: TransactionSet, problems: ProblemSink
    ) -> tuple[list[AcknowledgedClaim], list[CaseRecord]]:
        report = _Report(problems)
        ak1: Segment | None = None
        ak9: Segment | None = None
        sets: list[_SetLoop] = []
        current: _SetLoop | None = None
        closed_by: Segment | None = None  # the IK5 that closed the last AK2 loop
        error_loop: _ErrorLoop | None = None
        for segment in transaction.body:
            sid = segment.id
            if sid == "AK1":
                if ak1 is not None:
                    report.error(segment, None, f"second AK1 (the first is segment {ak1.number})")
                    continue
                ak1 = segment
                self._check_ak1(segment, report)
            elif sid == "AK2":
                if ak1 is None:
                    report.error(
                        segment, None, "AK2 before AK1: the functional group it answers is unknown"
                    )
                if ak9 is not None:
                    report.error(segment, None, "AK2 after AK9")
                current, closed_by, error_loop = _SetLoop(ak2=segment), None, None
                sets.append(current)
                self._check_ak2(segment, report)
            elif sid in ("IK3", "IK4", "IK5", "CTX"):
                if current is None:
                    why = (
                        f"the AK2 loop closed with the IK5 at segment {closed_by.number}"
                        if closed_by is not None
                        else "no AK2 before it"
                    )
                    self._stray(segment, why, report)
                    continue
                if sid == "IK3":
                    error_loop = _ErrorLoop(ik3=segment)
                    current.errors.append(error_loop)
                    self._ik3(segment, error_loop, report)
                elif sid == "IK5":
                    self._ik5(segment, current)
                    current, closed_by, error_loop = None, segment, None
                elif error_loop is None:
                    report.warning(segment, None, f"{sid} before any IK3 in the AK2 loop: ignored")
                elif sid == "IK4":
                    self._ik4(segment, error_loop, report)
                else:
                    self._ctx(segment, error_loop, report)
            elif sid == "AK9":
                if ak9 is not None:
                    report.error(segment, None, f"second AK9 (the first is segment {ak9.number})")
                    continue
                current, error_loop = None, None
                ak9 = segment
            else:
                report.warning(segment, None, f"unexpected segment {sid} in a 999: ignored")
        if ak1 is None:
            report.error(transaction.st, None, "999 has no AK1 functional group response header")
        if ak9 is None:
            report.error(transaction.st, None, "999 has no AK9 functional group response trailer")
        else:
            self._check_ak9(ak9, ak1.get(2).strip() if ak1 else "", sets, report)
        self._settle_unknown(ak9, sets, report)
        return self._results(transaction, ak1, ak9, sets, report)

    # -- segments --

    @staticmethod
    def _check_ak1(segment: Segment, report: _Report) -> None:
        if not segment.get(1).strip():
            report.warning(
                segment,
                1,
                "AK101 (functional identifier code) is missing: read as an answer to claims (HC)",
            )
        if not segment.get(2).strip():
            report.error(segment, 2, "AK102 (group control number) is missing")

    @staticmethod
    def _check_ak2(segment: Segment, report: _Report) -> None:
        used = len(segment.elements) - 1
        while used > 0 and not segment.get(used):
            used -= 1
        if used > _AK2_MAX_ELEMENTS:
            report.warning(
                segment,
                _AK2_MAX_ELEMENTS + 1,
                f"AK2 has {used} data elements: at most {_AK2_MAX_ELEMENTS} (AK201 transaction "
                "set id, AK202 control number, AK203 version); the others are ignored",
            )
        if not segment.get(1):
            report.error(segment, 1, "AK201 (transaction set identifier) is missing")
        if not segment.get(2):
            report.error(segment, 2, "AK202 (transaction set control number) is missing")

    @staticmethod
    def _stray(segment: Segment, why: str, report: _Report) -> None:
        """A segment of no AK2 loop: only a rejection in it matters (a claim would be lost)."""
        where = f"{segment.id} outside an AK2 loop ({why})"
        if segment.id == "IK5" and segment.get(1).strip() in REJECTED_ACK_CODES:
            report.error(
                segment, None, f"{where}: it rejects a transaction set the 999 does not name"
            )
        else:
            report.warning(
                segment, None, f"{where}: it acknowledges no transaction set and is ignored"
            )

    def _ik3(self, segment: Segment, loop: _ErrorLoop, report: _Report) -> None:
        segment_id, position = segment.get(1).strip(), segment.get(2).strip()
        if not segment_id:
            report.warning(segment, 1, "IK301 (segment id in error) is missing")
        if not position.isdigit():
            report.warning(
                segment, 2, f"IK302 {position!r} is not a segment position in the transaction set"
            )
        code = segment.get(4).strip()
        where = f"segment {position}" + (f", loop {segment.get(3)}" if segment.get(3) else "")
        meaning = (
            f"{SEGMENT_ERRORS.get(code, 'segment error')} (IK304 {code})"
            if code
            else "data element errors below"
        )
        loop.lines.append(f"IK3 {segment_id or '?'} ({where}): {meaning}")

    def _position(self, segment_id: str, composite: str) -> str | None:
        """C030 position in segment ('5:3:2') as 'CLM05-3 (repetition 2)'; None if invalid."""
        parts = composite.split(self._component)
        if not all(part.strip().isdigit() for part in parts if part.strip()) or not parts[0]:
            return None
        text = f"{segment_id}{int(parts[0]):02d}"
        if len(parts) > 1 and parts[1].strip():
            text += f"-{int(parts[1])}"
        if len(parts) > 2 and parts[2].strip():
            text += f" (repetition {int(parts[2])})"
        return text

    def _ik4(self, segment: Segment, loop: _ErrorLoop, report: _Report) -> None:
        segment_id = loop.ik3.get(1).strip() or "?"
        position = self._position(segment_id, segment.get(1))
        if position is None:
            report.warning(segment, 1, f"IK401 {segment.get(1)!r} is not a position in the segment")
            position = segment_id
        reference = segment.get(2).strip()
        if reference and not reference.isdigit():
            report.warning(
                segment, 2, f"IK402 {reference!r} is not a data element reference number"
            )
        code = segment.get(3).strip()
        if not code:
            report.warning(segment, 3, "IK403 (data element syntax error code) is missing")
        text = f"IK4 {position}"
        if reference:
            text += f" (data element {reference})"
        text += f": {ELEMENT_ERRORS.get(code, 'data element error')} (IK403 {code or '?'})"
        if segment.get(4):
            text += f", bad value {segment.get(4)!r}"
        loop.lines.append(text)

    def _ctx(self, segment: Segment, loop: _ErrorLoop, report: _Report) -> None:
        repeats = segment.get(1).split(self._repetition) if self._repetition else [segment.get(1)]
        names = []
        for repeat in repeats:
            name, _, reference = repeat.partition(self._component)
            name, reference = name.strip(), reference.strip()
            if not name:
                report.warning(segment, 1, "CTX01-1 (context name) is missing")
                continue
            names.append(name)
            if name.upper() == "SITUATIONAL TRIGGER":
                continue
            if name.upper() == "CLM01":
                if not reference:
                    report.warning(segment, 1, "CTX CLM01 without the claim id (CTX01-2)")
                elif len(reference) > _CLAIM_ID_LENGTH:  # the claim cannot be named
                    report.error(
                        segment,
                        1,
                        too_long("patient control number (CTX01-2)", reference, _CLAIM_ID_LENGTH),
                    )
                elif reference not in loop.claim_ids:
                    loop.claim_ids.append(reference)
            else:
                loop.lines.append(f"context {name}: {reference}")
        if not any(n.upper() == "SITUATIONAL TRIGGER" for n in names):
            return
        trigger_id = segment.get(2).strip()
        where = [trigger_id or "?"]
        if segment.get(3):
            where.append(
                f"(segment {segment.get(3)}{', loop ' + segment.get(4) if segment.get(4) else ''})"
            )
        if segment.get(5):
            position = self._position(trigger_id or "?", segment.get(5))
            if position is None:
                report.warning(
                    segment, 5, f"CTX05 {segment.get(5)!r} is not a position in the segment"
                )
            else:
                where.append(f"element {position}")
        if segment.get(6):
            references = segment.get(6).split(self._component)
            bad = [r for r in references if r and not r.strip().isdigit()]
            if bad:
                report.warning(
                    segment, 6, f"CTX06 {bad[0]!r} is not a data element reference number"
                )
            else:
                where.append(f"(reference {', '.join(r for r in references if r)})")
        loop.lines.append("situational trigger: " + " ".join(where))

    @staticmethod
    def _ik5(segment: Segment, loop: _SetLoop) -> None:
        loop.ik5 = segment
        code = segment.get(1).strip()
        if code in SET_ACK_CODES:
            loop.code = code  # else reported by _settle_unknown

    @staticmethod
    def _check_ak9(ak9: Segment, group: str, sets: list[_SetLoop], report: _Report) -> None:
        code = ak9.get(1).strip()
        if code not in GROUP_ACK_CODES:
            what = f"AK901 {code!r} is not a functional group acknowledgment code"
            if not sets:  # AK901 alone answers for the group
                report.error(
                    ak9,
                    1,
                    f"{what}: whether functional group {group or '?'} was accepted or rejected "
                    "is unknown",
                )
                return
            report.warning(ak9, 1, f"{what}: the AK2 loops are read")
        counts = [ak9.get(i).strip() for i in (2, 3, 4)]
        for index, count in zip((2, 3, 4), counts, strict=True):
            if not count.isdigit():
                report.warning(ak9, index, f"AK9{index:02d} {count!r} is not a count")
        if not sets or not counts[2].isdigit() or any(s.code is None for s in sets):
            return  # a set of unknown answer is reported by _settle_unknown
        accepted = sum(1 for s in sets if s.code in ("A", "E"))
        if int(counts[2]) != accepted:
            report.warning(
                ak9,
                4,
                f"AK904 says {counts[2]} transaction sets accepted, the AK2 loops accept "
                f"{accepted}",
            )

    @staticmethod
    def _settle_unknown(ak9: Segment | None, sets: list[_SetLoop], report: _Report) -> None:
        """AK2 loops whose answer cannot be read (no IK5, an IK501 that is no code). AK904
        settles them when it counts exactly them as the accepted sets beyond the known ones;
        otherwise a rejection might be lost, and the file is refused."""
        unknown = [s for s in sets if s.code is None]
        if not unknown:
            return
        accepted = ak9.get(4).strip() if ak9 is not None else ""
        known = sum(1 for s in sets if s.code in ("A", "E"))
        settled = accepted.isdigit() and int(accepted) - known == len(unknown)
        for loop in unknown:
            control = loop.ak2.get(2) or "?"
            if loop.ik5 is not None:
                at, element = loop.ik5, 1
                what = (
                    f"IK501 {loop.ik5.get(1).strip()!r} is not a transaction set acknowledgment "
                    "code"
                )
                subject = f"transaction set {control}"
            else:
                at, element = loop.ak2, None
                what = (
                    f"AK2 loop for transaction set {control} has no IK5 (transaction set "
                    "response trailer)"
                )
                subject = "it"
            if settled:
                report.warning(
                    at,
                    element,
                    f"{what}: AK904 counts transaction set {control} as accepted, so no case "
                    "is opened for it",
                )
            else:
                report.error(
                    at, element, f"{what}: whether {subject} was accepted or rejected is unknown"
                )

    # -- results --

    def _results(
        self,
        transaction: TransactionSet,
        ak1: Segment | None,
        ak9: Segment | None,
        sets: list[_SetLoop],
        report: _Report,
    ) -> tuple[list[AcknowledgedClaim], list[CaseRecord]]:
        acknowledged: list[AcknowledgedClaim] = []
        cases: list[CaseRecord] = []
        group_number = ak1.get(2).strip() if ak1 else ""
        version = ak1.get(3).strip() if ak1 else ""
        functional_id = ak1.get(1).strip() if ak1 else ""
        when = _envelope_date(transaction)
        sender = ""
        if transaction.group is not None:
            sender = transaction.group.sender_code
        if not sender and transaction.interchange is not None:
            sender = transaction.interchange.sender_id
        context = _Context(self._rulebook, self._source, transaction, when, sender, report)
        for loop in sets:
            if loop.code is None:
                continue  # reported: no IK5 or an invalid one
            set_id, control = loop.ak2.get(1).strip(), loop.ak2.get(2).strip()
            ik5 = loop.ik5
            if ik5 is None:
                continue
            rejected = loop.code in REJECTED_ACK_CODES
            reasons = [
                f"IK50{i} {ik5.get(i)}: {SET_ERRORS.get(ik5.get(i).strip(), 'error')}"
                for i in range(2, 7)
                if ik5.get(i).strip()
            ]
            headline = (
                f"999 IK5 {loop.code} — {SET_ACK_CODES[loop.code]}: {set_id} transaction set "
                f"{control} of functional group {group_number}"
                + (f" ({'; '.join(reasons)})" if reasons else "")
            )
            if set_id != "837" or (functional_id and functional_id != "HC"):
                if rejected:
                    report.warning(
                        ik5,
                        1,
                        f"999 rejects {set_id or '?'} transaction set {control}: not an 837 "
                        "claim, no case opened",
                    )
                continue
            claim_ids = list(dict.fromkeys(c for e in loop.errors for c in e.claim_ids))
            if loop.code == "E":
                summary = "; ".join(line for e in loop.errors for line in e.lines)
                report.warning(
                    ik5,
                    1,
                    f"999 accepted transaction set 837 {control} with errors"
                    + (f": {summary}" if summary else ""),
                )
            version_of_set = loop.ak2.get(3).strip() or version
            for claim_id in claim_ids or [f"837-{group_number}-{control}"]:
                own = [e for e in loop.errors if claim_id in e.claim_ids or not e.claim_ids]
                details = [headline, *(line for e in own for line in e.lines)]
                if rejected:
                    details.append(
                        "the whole transaction set was rejected: every claim in it must be "
                        "corrected and resubmitted"
                        if claim_ids
                        else "the claims of this transaction set are not named in the 999: "
                        f"link the 837 (group {group_number}, set {control}) to find them"
                    )
                context.add(
                    claim_id,
                    loop.code,
                    not rejected,
                    details,
                    ik5,
                    version_of_set,
                    acknowledged,
                    cases,
                )
        if ak9 is not None and not sets and ak9.get(1).strip() in REJECTED_ACK_CODES:
            code = ak9.get(1).strip()
            if functional_id and functional_id != "HC":
                report.warning(
                    ak9,
                    1,
                    f"999 rejects functional group {group_number} of {functional_id}: not "
                    "claims, no case opened",
                )
            else:
                reasons = [
                    f"AK9{i:02d} {ak9.get(i)}: {GROUP_ERRORS.get(ak9.get(i).strip(), 'error')}"
                    for i in range(5, 10)
                    if ak9.get(i).strip()
                ]
                details = [
                    f"999 AK9 {code} — {GROUP_ACK_CODES[code]}: functional group {group_number}"
                    + (f" ({'; '.join(reasons)})" if reasons else ""),
                    "no AK2 loop: the whole functional group was rejected; link the 837 group "
                    f"{group_number} to find its claims",
                ]
                context.add(
                    f"837-{group_number}", code, False, details, ak9, version, acknowledged, cases
                )
        return acknowledged, cases


class _Context:
    """What every claim of one 999 shares: payer (the 999's sender), date and source."""

    def __init__(
        self,
        rulebook: Rulebook,
        source: str,
        transaction: TransactionSet,
        when: date | None,
        sender: str,
        report: _Report,
    ) -> None:
        self.rulebook = rulebook
        self.source = source
        self.transaction = transaction
        self.when = when
        self.sender = sender
        self.report = report
        self.reported_date = self.reported_sender = False

    def add(
        self,
        claim_id: str,
        code: str,
        accepted: bool,
        details: list[str],
        at: Segment,
        version: str,
        acknowledged: list[AcknowledgedClaim],
        cases: list[CaseRecord],
    ) -> None:
        if self.when is None:
            if not self.reported_date:
                self.report.error(
                    self.transaction.st,
                    None,
                    "999 has no date (GS04 or ISA09): the rejection's timely filing cannot be "
                    "counted",
                )
                self.reported_date = True
            return
        if not self.sender and not self.reported_sender:
            self.report.warning(
                self.transaction.st,
                None,
                "999 has no sender (GS02 or ISA06): its payer is recorded as 'unknown'",
            )
            self.reported_sender = True
        if not accepted:
            details = [*details, SERVICE_DATE_UNKNOWN]
        when = self.when
        institutional = "X223" in version.upper()
        claim = _build(
            self.report,
            at,
            f"claim {claim_id}",
            lambda: Claim(
                claim_id=claim_id,
                claim_status=code,
                claim_type=ClaimType.INSTITUTIONAL if institutional else ClaimType.PROFESSIONAL,
                payer=Payer(payer_id=self.sender or "unknown", name="", type=PayerType.OTHER),
                service_date_from=when,
                billed_amount=Decimal(0),
                remittance_date=when,
            ),
        )
        if claim is None:
            return
        location = at.location(1)
        acknowledged.append(
            AcknowledgedClaim(claim=claim, accepted=accepted, details=details, location=location)
        )
        if accepted:
            return
        record = DenialRecord(
            kind=DenialKind.REJECTION,
            claim=claim,
            sequence=1,
            details=details,
            source=self.source,
        )
        classification = classify(
            claim, DenialKind.REJECTION, self.rulebook.table, self.rulebook.profiles
        )
        cases.append(CaseRecord(record=record, classification=classification, location=location))
