"""The 999 implementation acknowledgment (005010X231A1): a whole 837 transaction set rejected
(IK5 R, M, W or X), or a whole functional group (AK9 R with no AK2 loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.models import (
    SERVICE_DATE_UNKNOWN,
    Claim,
    ClaimType,
    Payer,
    PayerType,
)
from domain.rulebook import Rulebook
from edi.acknowledgments.codes import (
    ELEMENT_ERRORS,
    GROUP_ACK_CODES,
    GROUP_ERRORS,
    REJECTED_ACK_CODES,
    SEGMENT_ERRORS,
    SET_ACK_CODES,
    SET_ERRORS,
)
from edi.acknowledgments.common import AckReport, build_checked, envelope_date, rejection_case
from edi.claim_values import too_long
from edi.envelope import TransactionSet
from edi.problems import ProblemSink
from edi.results import AcknowledgedClaim, CaseRecord
from edi.tokenizer import Delimiters, Segment

_AK2_MAX_ELEMENTS = 3
CLAIM_ID_LENGTH = 80  # Claim.claim_id


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
        report = AckReport(problems)
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
    def _check_ak1(segment: Segment, report: AckReport) -> None:
        if not segment.get(1).strip():
            report.warning(
                segment,
                1,
                "AK101 (functional identifier code) is missing: read as an answer to claims (HC)",
            )
        if not segment.get(2).strip():
            report.error(segment, 2, "AK102 (group control number) is missing")

    @staticmethod
    def _check_ak2(segment: Segment, report: AckReport) -> None:
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
    def _stray(segment: Segment, why: str, report: AckReport) -> None:
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

    def _ik3(self, segment: Segment, loop: _ErrorLoop, report: AckReport) -> None:
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

    def _ik4(self, segment: Segment, loop: _ErrorLoop, report: AckReport) -> None:
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

    def _ctx(self, segment: Segment, loop: _ErrorLoop, report: AckReport) -> None:
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
                elif len(reference) > CLAIM_ID_LENGTH:  # the claim cannot be named
                    report.error(
                        segment,
                        1,
                        too_long("patient control number (CTX01-2)", reference, CLAIM_ID_LENGTH),
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
    def _check_ak9(ak9: Segment, group: str, sets: list[_SetLoop], report: AckReport) -> None:
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
    def _settle_unknown(ak9: Segment | None, sets: list[_SetLoop], report: AckReport) -> None:
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
        report: AckReport,
    ) -> tuple[list[AcknowledgedClaim], list[CaseRecord]]:
        acknowledged: list[AcknowledgedClaim] = []
        cases: list[CaseRecord] = []
        group_number = ak1.get(2).strip() if ak1 else ""
        version = ak1.get(3).strip() if ak1 else ""
        functional_id = ak1.get(1).strip() if ak1 else ""
        when = envelope_date(transaction)
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
        report: AckReport,
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
        claim = build_checked(
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
        cases.append(rejection_case(claim, details, self.source, self.rulebook, location))
