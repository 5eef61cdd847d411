"""Which case a payer's report is about: the read-model lookups and rules the ingest matches by.

A case is found by payer and claim number (CLP07, the original claim's, or CLP01). A number that
cases of different claims share (a masked CLP07) answers only the case of the same claim id;
otherwise the ambiguity is reported, never guessed. A 999 names no payer (only its sender): its
rejection is identified from the claim record (the claim's other cases or remittances) when that
names one payer, and until then later answers find it by claim id and billing provider.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from db.models import CaseRow, RemittanceClaimRow
from domain.case import GIVEN_UP_OUTCOMES, CaseStatus
from domain.identity import CLAIM_RECORD, claim_fingerprint
from domain.models import SERVICE_DATE_UNKNOWN, Claim, DenialKind, DenialRecord, Payer
from edi.problems import Location
from edi.results import AdjudicatedClaim, CaseRecord

_CHUNK = 500  # claim numbers per IN (...) list
CASE_RECORD = "its earlier case"


def problem(message: str, location: Location | None = None) -> dict[str, Any]:
    """A finding for the ingest report, where in the file it is."""
    if location is None:
        return {"message": message, "location": {"text": "file"}}
    return {
        "message": message,
        "location": location.model_dump(exclude_none=True) | {"text": str(location)},
    }


class EarlierCase(NamedTuple):
    sequence: int
    open: bool
    remittance_date: date | None
    fingerprint: str


class Ambiguous(NamedTuple):
    """A claim number that several open cases of different claims share."""

    number: str
    cases: int


class ClaimSeen(NamedTuple):
    """What a later file says of a claim that its case must agree with."""

    claim_id: str
    service_date: date
    provider_npi: str = ""
    reported_on: date | None = None

    @classmethod
    def of(cls, claim: AdjudicatedClaim | Claim) -> ClaimSeen:
        if isinstance(claim, AdjudicatedClaim):
            return cls(
                claim.claim_id, claim.service_date, claim.provider_npi, claim.remittance_date
            )
        return cls(
            claim.claim_id, claim.service_date_from, claim.provider_npi, claim.remittance_date
        )


class CaseIndex:
    """Cases indexed by payer and claim numbers, and (for those whose payer no file named) by
    claim id alone."""

    def __init__(self, rows: Iterable[CaseRow]) -> None:
        self._by_number: dict[tuple[str, str], list[CaseRow]] = defaultdict(list)
        self._unnamed: dict[str, list[CaseRow]] = defaultdict(list)
        for row in rows:
            for number in {row.claim_id, row.payer_claim_control_number} - {""}:
                self._by_number[(row.payer_id, number)].append(row)
            if row.kind == DenialKind.REJECTION.value and not row.payer_name.strip():
                self._unnamed[row.claim_id].append(row)

    def match(
        self, payer_id: str, *numbers: str, claim: ClaimSeen, kinds: set[str]
    ) -> CaseRow | Ambiguous | None:
        """The case a payer's report of `claim` answers: under one of its numbers, a case of
        the same claim id. A number held only by cases of other claims (a masked CLP07) answers
        none of them, and two cases of the claim id are told apart by the date of service:
        guessing would pay the wrong claim."""
        for number in numbers:
            rows = [row for row in self._by_number.get((payer_id, number), []) if row.kind in kinds]
            if not rows:
                continue
            own = [row for row in rows if row.claim_id == claim.claim_id]
            if len(own) > 1:
                own = [row for row in own if row.service_date_from == claim.service_date]
            if len(own) == 1:
                return own[0]
            return Ambiguous(number, len(rows))
        return None

    def unnamed(self, claim: ClaimSeen) -> CaseRow | Ambiguous | None:
        """The case of the claim whose payer no file named (a 999 rejection), whoever reports on
        it now and since the 999: the billing provider must agree where both are known."""
        rows = [
            row
            for row in self._unnamed.get(claim.claim_id, [])
            if (
                not (row.provider_npi and claim.provider_npi)
                or row.provider_npi == claim.provider_npi
            )
            and (
                claim.reported_on is None
                or row.remittance_date is None
                or row.remittance_date <= claim.reported_on
            )
        ]
        if len(rows) > 1:
            return Ambiguous(claim.claim_id, len(rows))
        return rows[0] if rows else None


def numbers(item: AdjudicatedClaim) -> list[str]:
    """The numbers an 835 claim may be known by on a case: its payer claim number, the original
    claim's (a corrected claim) and the provider's claim id."""
    return [
        number
        for number in (item.payer_claim_control_number, item.original_reference, item.claim_id)
        if number
    ]


def case_number(case: CaseRecord) -> str:
    claim = case.record.claim
    if case.record.kind is DenialKind.REJECTION:
        return claim.claim_id
    return claim.payer_claim_control_number or claim.claim_id


def open_cases(
    session: Session,
    payer_ids: set[str],
    numbers: set[str],
    claim_ids: set[str],
    excluding: AbstractSet[str] = frozenset(),
) -> CaseIndex:
    """Open cases of the payers under the claim numbers (all that CaseIndex.match can find
    for them), and open rejections of the claims whose payer no file named; not the cases
    `excluding` names (those the ingest's own file opens)."""
    case_ids: set[str] = set()
    for chunk in _chunks(sorted(numbers)):
        # By one indexed number column at a time, payer and status read alongside (see
        # written_off_cases).
        for column in (col(CaseRow.payer_claim_control_number), col(CaseRow.claim_id)):
            found = session.exec(
                select(CaseRow.case_id, CaseRow.payer_id, CaseRow.status).where(column.in_(chunk))
            )
            case_ids |= {
                case_id
                for case_id, payer_id, status in found
                if payer_id in payer_ids and status != CaseStatus.CLOSED
            }
    for chunk in _chunks(sorted(claim_ids)):
        case_ids.update(
            session.exec(
                select(CaseRow.case_id).where(
                    col(CaseRow.claim_id).in_(chunk),
                    col(CaseRow.kind) == DenialKind.REJECTION.value,
                    col(CaseRow.payer_name) == "",
                    col(CaseRow.status) != CaseStatus.CLOSED,
                )
            )
        )
    rows: list[CaseRow] = []
    for chunk in _chunks(sorted(case_ids - excluding)):
        rows += session.exec(select(CaseRow).where(col(CaseRow.case_id).in_(chunk)))
    return CaseIndex(rows)


def written_off_cases(session: Session, items: list[AdjudicatedClaim]) -> CaseIndex:
    """Closed cases still owed money (written off) under the claim numbers of `items`."""
    written_off = {o.value for o in GIVEN_UP_OUTCOMES}
    case_ids: set[str] = set()
    for chunk in _chunks(sorted({n for item in items for n in numbers(item)})):
        # By one indexed number column at a time, status read alongside: a condition on the
        # status (or an OR of the two columns) sends the planner through every closed case.
        for column in (col(CaseRow.payer_claim_control_number), col(CaseRow.claim_id)):
            found = session.exec(
                select(CaseRow.case_id, CaseRow.status, CaseRow.outcome).where(column.in_(chunk))
            )
            case_ids |= {
                case_id
                for case_id, status, outcome in found
                if status == CaseStatus.CLOSED and outcome in written_off
            }
    rows: list[CaseRow] = []
    for chunk in _chunks(sorted(case_ids)):
        rows += session.exec(select(CaseRow).where(col(CaseRow.case_id).in_(chunk)))
    return CaseIndex(rows)


def existing_cases(
    session: Session,
    records: list[CaseRecord],
    excluding: AbstractSet[str] = frozenset(),
) -> dict[tuple[str, str, str], list[EarlierCase]]:
    """Earlier cases under the same claim numbers: (kind, payer, claim number) -> them; not
    the cases `excluding` names."""
    found: dict[tuple[str, str, str], list[EarlierCase]] = defaultdict(list)
    for chunk in _chunks(sorted({case_number(case) for case in records})):
        rows = session.exec(
            select(CaseRow).where(
                col(CaseRow.payer_claim_control_number).in_(chunk)
                | col(CaseRow.claim_id).in_(chunk)
            )
        )
        for row in rows:
            if row.case_id in excluding:
                continue
            number = row.payer_claim_control_number or row.claim_id
            found[(row.kind, row.payer_id, number)].append(
                EarlierCase(
                    row.sequence,
                    row.status != CaseStatus.CLOSED,
                    row.remittance_date,
                    # A rejection's number is its claim id: one claim, whatever its dates.
                    row.claim_id
                    if row.kind == DenialKind.REJECTION.value
                    else claim_fingerprint(row.claim_id, row.service_date_from, row.billed_amount),
                )
            )
    return found


class ClaimRecord(NamedTuple):
    """What the product knows of a claim from elsewhere: the payer it went to, its dates of
    service, charge and billing provider."""

    payer: Payer
    service_date_from: date
    service_date_to: date | None
    billed_amount: Decimal
    provider_npi: str
    source: str


def claim_records(session: Session, claim_ids: set[str]) -> dict[str, list[ClaimRecord]]:
    """The claim record of each claim id: its cases with a named payer, else the claims the
    835s adjudicated. One claim id may have been sent to several payers (then it is ambiguous)."""
    found: dict[str, list[ClaimRecord]] = defaultdict(list)
    for chunk in _chunks(sorted(claim_ids)):
        for row in session.exec(
            select(CaseRow).where(col(CaseRow.claim_id).in_(chunk), col(CaseRow.payer_name) != "")
        ):
            found[row.claim_id].append(
                ClaimRecord(
                    Payer(payer_id=row.payer_id, name=row.payer_name, type=row.payer_type),
                    row.service_date_from,
                    row.service_date_to,
                    row.billed_amount,
                    row.provider_npi,
                    CASE_RECORD,
                )
            )
        for claim in session.exec(
            select(RemittanceClaimRow).where(col(RemittanceClaimRow.claim_id).in_(chunk))
        ):
            if claim.claim_id in found and any(
                r.source == CASE_RECORD for r in found[claim.claim_id]
            ):
                continue
            found[claim.claim_id].append(
                ClaimRecord(
                    Payer(
                        payer_id=claim.payer_id,
                        name=claim.payer_name or claim.payer_id,
                        type=claim.payer_type,
                    ),
                    claim.service_date,
                    None,
                    claim.billed_amount,
                    claim.provider_npi,
                    "its remittance",
                )
            )
    return found


def identified(record: DenialRecord, known: list[ClaimRecord]) -> DenialRecord | str:
    """A 999 rejection with what the claim record says of its claim (payer, dates, charge), or
    why it stays unidentified."""
    # A claim id seen more than a year before the 999 is another claim (ids get reused).
    acknowledged = record.claim.service_date_from  # the 999's date stands in for it
    known = [r for r in known if acknowledged - timedelta(days=366) <= r.service_date_from]
    payers = {r.payer.payer_id for r in known}
    if not known:
        return (
            f"claim {record.claim.claim_id}: the 999 names no payer and no date of service, and "
            "no case or remittance of this claim is known: set them on the case (timely filing "
            "is counted from the 999's date until then)"
        )
    if len(payers) > 1:
        return (
            f"claim {record.claim.claim_id}: the 999 names no payer, and the claim record shows "
            f"{len(payers)} payers for this claim id: set the payer on the case"
        )
    # A case knows the payer's type; a remittance row only its id and name.
    first = max(known, key=lambda r: (r.source == CASE_RECORD, r.service_date_from))
    claim = record.claim.model_copy(
        update={
            "payer": first.payer,
            "service_date_from": first.service_date_from,
            "service_date_to": first.service_date_to,
            "billed_amount": first.billed_amount,
            "provider_npi": record.claim.provider_npi or first.provider_npi,
        }
    )
    details = [d for d in record.details if d != SERVICE_DATE_UNKNOWN]
    details.append(
        f"payer {first.payer.payer_id}, date of service and charge taken from {first.source} "
        "(the 999 names only its sender)"
    )
    return record.model_copy(
        update={"claim": claim, "details": details, "identified_by": CLAIM_RECORD}
    )


def collision(
    case: CaseRecord, number: str, earlier: list[EarlierCase], fingerprint: str
) -> dict[str, Any]:
    claim = case.record.claim
    others = sorted({e.fingerprint.split("|")[0] for e in earlier if e.fingerprint != fingerprint})
    return problem(
        f"claim {claim.claim_id} (served {claim.service_date_from.isoformat()}, billed "
        f"${claim.billed_amount:.2f}) shares payer claim number {number} with "
        f"{len(others)} other claim(s) ({', '.join(others[:5])}"
        f"{', ...' if len(others) > 5 else ''}): opened as a case of its own, not merged; "
        "check the payer's claim numbers (a de-identified file masks them)",
        case.location,
    )


def ambiguity(claim_id: str, ambiguous: Ambiguous, location: Location) -> dict[str, Any]:
    return problem(
        f"claim {claim_id}: claim number {ambiguous.number} belongs to {ambiguous.cases} "
        f"case(s), none of them this claim's alone (another claim id, or the same claim id "
        "with other dates of service): not applied to any of them; record the answer on the "
        "right case by hand",
        location,
    )


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
