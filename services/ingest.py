"""Ingesting X12 files: store, parse whole, then open cases or answer open ones.

The raw file is stored before anything else and kept whatever happens. A file with errors
starts nothing. A file already ingested starts nothing (same SHA-256). Case ids are
deterministic and payer answers carry the file and claim they came from, so an ingest cut short
(Temporal unreachable) can simply be run again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from db.models import CaseRow, IngestFileRow, RemittanceClaimRow
from db.upsert import upsert
from domain.case import Actor, CaseStatus, PayerDecision, PayerResponse
from domain.identity import denial_sequence
from domain.models import DenialKind
from domain.remittance_rules import decision_from_remittance, newly_paid
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from edi.results import AcknowledgedClaim, AdjudicatedClaim, CaseRecord, ParsedFile
from services.audit import AuditService, Outcome
from services.cases import CaseService
from services.errors import Busy, Unavailable
from services.ingest_metrics import record_ingest
from services.temporal_calls import release_connection

Progress = Callable[[int, int], None]


class IngestCounts(BaseModel):
    """What files turned into: counted per file and summed over an ingest."""

    claims: int = 0
    denials: int = 0
    rejections: int = 0
    reversals: int = 0
    cases_started: int = 0
    duplicates_skipped: int = 0
    payer_responses_matched: int = 0


class FileReport(IngestCounts):
    file: str
    sha256: str
    kind: str | None = None
    status: str = Field(description="ingested | duplicate | failed | incomplete")
    errors: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class IngestSummary(IngestCounts):
    files: int = 0
    errors: int = 0
    reports: list[FileReport] = Field(default_factory=list)

    @classmethod
    def of(cls, reports: list[FileReport]) -> IngestSummary:
        total = cls(files=len(reports), reports=reports)
        for report in reports:
            for name in IngestCounts.model_fields:
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors += len(report.errors)
        return total


def _newly_paid(claim_paid: Decimal, case: CaseRow) -> Decimal:
    """As the read model knows the case: the workflow recounts from its own state (see
    PayerResponse.claim_paid_total)."""
    return newly_paid(claim_paid, case.paid_amount, case.recovered_amount)


def _problem(message: str) -> dict[str, Any]:
    return {"message": message, "location": {"text": "file"}}


class _OpenCases:
    """Open cases of the payers in a file, indexed by payer and claim numbers."""

    def __init__(self, rows: Iterable[CaseRow]) -> None:
        self._by_number: dict[tuple[str, str], list[CaseRow]] = defaultdict(list)
        for row in rows:
            for number in {row.claim_id, row.payer_claim_control_number} - {""}:
                self._by_number[(row.payer_id, number)].append(row)

    def match(self, payer_id: str, *numbers: str, kinds: set[str]) -> CaseRow | None:
        for number in numbers:
            for row in self._by_number.get((payer_id, number), []):
                if row.kind in kinds:
                    return row
        return None


class IngestService:
    def __init__(
        self,
        session: Session,
        cases: CaseService,
        rulebook: Rulebook,
        audit: AuditService,
        concurrency: int = 32,
    ) -> None:
        self._session = session
        self._cases = cases
        self._rulebook = rulebook
        self._audit = audit
        self._concurrency = concurrency

    async def ingest_many(
        self, files: list[tuple[str, bytes]], actor: Actor, progress: Progress | None = None
    ) -> IngestSummary:
        reports = [await self.ingest(name, raw, actor, progress) for name, raw in files]
        return IngestSummary.of(reports)

    async def ingest(
        self, name: str, raw: bytes, actor: Actor, progress: Progress | None = None
    ) -> FileReport:
        """Store, parse and act on one file; audited with the cases it opened."""
        started: list[str] = []
        report = await self._ingest(name, raw, actor, started, progress)
        record_ingest(report.kind, report.status, len(report.errors), len(started))
        outcome = {"failed": Outcome.REFUSED, "incomplete": Outcome.FAILED}.get(
            report.status, Outcome.OK
        )
        self._audit.record(
            actor,
            "ingest.file",
            outcome,
            file=name,
            sha256=report.sha256,
            status=report.status,
            cases_started=started or None,
            payer_responses_matched=report.payer_responses_matched or None,
        )
        return report

    async def _ingest(
        self,
        name: str,
        raw: bytes,
        actor: Actor,
        started: list[str],
        progress: Progress | None,
    ) -> FileReport:
        sha256 = hashlib.sha256(raw).hexdigest()
        row = self._session.get(IngestFileRow, sha256)
        # A failed file is parsed again: a later version may read it.
        if row is not None and row.status == "ingested":
            return self._repeat(row, name)
        if row is None:
            row = IngestFileRow(
                sha256=sha256,
                filename=name,
                size=len(raw),
                status="received",
                content=raw,
                received_by=actor.user_id,
                received_at=datetime.now(UTC),
            )
            self._session.add(row)
            self._session.commit()
        parsed = await asyncio.to_thread(parse_bytes, name, raw, self._rulebook)
        report = FileReport(
            file=name,
            sha256=sha256,
            kind=parsed.kind.value if parsed.kind else None,
            status="failed",
            claims=parsed.claims_total,
            denials=len(parsed.cases_of(DenialKind.DENIAL)),
            rejections=len(parsed.cases_of(DenialKind.REJECTION)),
            reversals=len(parsed.cases_of(DenialKind.REVERSAL, DenialKind.RECOUPMENT)),
            errors=parsed.summary()["errors"],
            warnings=parsed.summary()["warnings"],
        )
        if parsed.ok:
            self._record_adjudicated(sha256, parsed.adjudicated)
            try:
                await self._act(parsed, report, started, progress)
                report.status = "ingested"
            except (Unavailable, Busy) as exc:
                report.status = "incomplete"
                report.errors.append(_problem(f"{exc.message}: ingest the file again to finish"))
        return self._finish(row, report)

    def _repeat(self, row: IngestFileRow, name: str) -> FileReport:
        """A file ingested before: nothing starts again."""
        previous = FileReport.model_validate(row.report)
        return previous.model_copy(
            update={
                "file": name,
                "status": "duplicate",
                "cases_started": 0,
                "payer_responses_matched": 0,
                "duplicates_skipped": previous.denials + previous.rejections + previous.reversals,
            }
        )

    def _finish(self, row: IngestFileRow, report: FileReport) -> FileReport:
        row.kind = report.kind
        row.status = report.status
        row.report = report.model_dump(mode="json")
        row.finished_at = datetime.now(UTC)
        self._session.add(row)
        self._session.commit()
        return report

    def _record_adjudicated(self, sha256: str, claims: list[AdjudicatedClaim]) -> None:
        # A reversal takes back an earlier adjudication; it is neither a claim adjudicated nor
        # a denial for the denial rate (its re-adjudication, if any, comes as a claim of its own).
        rows = [
            {
                "row_id": f"{sha256}:{index}",
                "file_sha256": sha256,
                "payer_id": item.payer.payer_id,
                "payer_name": item.payer.name,
                "claim_id": item.claim_id,
                "payer_claim_control_number": item.payer_claim_control_number,
                "claim_status": item.claim_status,
                "provider_npi": item.provider_npi,
                "billed_amount": item.billed_amount,
                "paid_amount": item.paid_amount,
                "denied_amount": item.classification.denied_amount,
                "is_denial": item.classification.is_denial,
                "category": item.classification.category.value
                if item.classification.is_denial
                else None,
                "service_date": item.service_date,
                "remittance_date": item.remittance_date,
            }
            for index, item in enumerate(claims)
            if not item.is_reversal
        ]
        for start in range(0, len(rows), 1000):
            upsert(
                self._session,
                RemittanceClaimRow.__table__,  # type: ignore[arg-type]
                rows[start : start + 1000],
                ["row_id"],
                update=False,
            )
        self._session.commit()

    def _open_cases(self, payer_ids: set[str]) -> _OpenCases:
        rows = self._session.exec(
            select(CaseRow).where(
                col(CaseRow.payer_id).in_(payer_ids), col(CaseRow.status) != CaseStatus.CLOSED
            )
        )
        return _OpenCases(rows)

    def _existing_cases(
        self, records: list[CaseRecord]
    ) -> dict[tuple[str, str, str], list[tuple[int, bool, date | None]]]:
        """Earlier cases of the same claims: (kind, payer, claim number) -> their sequences."""
        found: dict[tuple[str, str, str], list[tuple[int, bool, date | None]]] = defaultdict(list)
        numbers = sorted({_case_number(case) for case in records})
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            rows = self._session.exec(
                select(CaseRow).where(
                    col(CaseRow.payer_claim_control_number).in_(chunk)
                    | col(CaseRow.claim_id).in_(chunk)
                )
            )
            for row in rows:
                number = row.payer_claim_control_number or row.claim_id
                found[(row.kind, row.payer_id, number)].append(
                    (row.sequence, row.status != CaseStatus.CLOSED, row.remittance_date)
                )
        return found

    async def _act(
        self,
        parsed: ParsedFile,
        report: FileReport,
        started: list[str],
        progress: Progress | None,
    ) -> None:
        payer_ids = (
            {item.payer.payer_id for item in parsed.adjudicated}
            | {item.claim.payer.payer_id for item in parsed.acknowledged}
            | {case.record.claim.payer.payer_id for case in parsed.cases}
        )
        open_cases = self._open_cases(payer_ids)
        today = self._cases.today()  # an answer with no date of its own is dated today
        answered: set[tuple[str, str]] = set()  # (payer, claim number) answered by a Signal
        actions: list[Callable[[], Awaitable[None]]] = []

        def answer(case_id: str, response: PayerResponse) -> Callable[[], Awaitable[None]]:
            async def send() -> None:
                if await self._cases.send_payer_response(case_id, response):
                    report.payer_responses_matched += 1

            return send

        for index, item in enumerate(parsed.adjudicated):
            if item.is_reversal:
                continue
            payer_id = item.payer.payer_id
            numbers = [
                number
                for number in (
                    item.payer_claim_control_number,
                    item.original_reference,
                    item.claim_id,
                )
                if number
            ]
            still_denied = item.classification.is_denial and item.classification.denied_amount > 0
            match = open_cases.match(payer_id, *numbers, kinds={DenialKind.DENIAL.value})
            rejection = open_cases.match(
                payer_id, item.claim_id, kinds={DenialKind.REJECTION.value}
            )
            if match is None and rejection is not None:
                if rejection.status != CaseStatus.AWAITING_PAYER:
                    continue
                match = rejection  # the resubmitted rejection, now adjudicated
                if not still_denied:
                    answered.update((payer_id, number) for number in numbers)
            elif match is None:
                continue
            paid_now = _newly_paid(item.paid_amount, match)
            if match is not rejection:
                if still_denied and match.status != CaseStatus.AWAITING_PAYER and not paid_now:
                    continue  # the same denial again, not an answer: the open case covers it
                answered.update((payer_id, number) for number in numbers)
            response = PayerResponse(
                decision=decision_from_remittance(
                    paid_now, still_denied, answers_rejection=match is rejection
                ),
                paid_amount=paid_now,
                claim_paid_total=max(item.paid_amount, Decimal(0)),
                decision_date=item.remittance_date or today,
                payer_claim_control_number=item.payer_claim_control_number,
                reference=f"{parsed.sha256}:{index}",
                source="835",
            )
            actions.append(answer(match.case_id, response))

        for index, ack in enumerate(parsed.acknowledged):
            match = open_cases.match(
                ack.claim.payer.payer_id, ack.claim.claim_id, kinds={DenialKind.REJECTION.value}
            )
            if match is None or match.status != CaseStatus.AWAITING_PAYER:
                continue
            answered.add((ack.claim.payer.payer_id, ack.claim.claim_id))
            actions.append(
                answer(match.case_id, _acknowledgment_response(parsed, index, ack, today))
            )

        existing = self._existing_cases(parsed.cases)
        for case in parsed.cases:
            claim = case.record.claim
            if (claim.payer.payer_id, _case_number(case)) in answered:
                continue
            key = (case.record.kind.value, claim.payer.payer_id, _case_number(case))
            sequence = denial_sequence(existing[key], claim.remittance_date, case.record.kind)
            if sequence is None:
                report.duplicates_skipped += 1
                continue
            existing[key].append((sequence, True, claim.remittance_date))
            record = case.record.model_copy(update={"sequence": sequence})

            async def start(record=record) -> None:  # type: ignore[no-untyped-def]
                opened = await self._cases.start_case(record)
                if opened.created:
                    report.cases_started += 1
                    started.append(opened.case_id)
                else:
                    report.duplicates_skipped += 1

            actions.append(start)
        release_connection(self._session)  # what it needs is read: wait on Temporal without it
        await self._run(actions, progress)

    async def _run(
        self, actions: list[Callable[[], Awaitable[None]]], progress: Progress | None
    ) -> None:
        """Run the starts and signals concurrently, a bounded number at a time."""
        semaphore = asyncio.Semaphore(self._concurrency)
        done = 0

        async def run(action: Callable[[], Awaitable[None]]) -> None:
            nonlocal done
            async with semaphore:
                await action()
            done += 1
            if progress is not None:
                progress(done, len(actions))

        if progress is not None:
            progress(0, len(actions))
        outcomes = await asyncio.gather(
            *(run(action) for action in actions), return_exceptions=True
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures:
            raise failures[0]


def _case_number(case: CaseRecord) -> str:
    claim = case.record.claim
    if case.record.kind is DenialKind.REJECTION:
        return claim.claim_id
    return claim.payer_claim_control_number or claim.claim_id


def _acknowledgment_response(
    parsed: ParsedFile, index: int, ack: AcknowledgedClaim, today: date
) -> PayerResponse:
    return PayerResponse(
        decision=PayerDecision.ACCEPTED if ack.accepted else PayerDecision.UPHELD,
        decision_date=ack.claim.remittance_date or today,
        reference=f"{parsed.sha256}:ack{index}",
        notes="; ".join(ack.details),
        source=parsed.kind.value if parsed.kind else "acknowledgment",
    )


def list_ingests(session: Session, limit: int = 50, offset: int = 0) -> list[IngestFileRow]:
    return list(
        session.exec(
            select(IngestFileRow)
            .order_by(col(IngestFileRow.received_at).desc())
            .offset(offset)
            .limit(limit)
        )
    )
