"""Ingesting X12 files: store, parse whole, then open cases or answer open ones.

The raw file is stored before anything else and kept whatever happens. A file with errors
starts nothing. A file already ingested starts nothing (same SHA-256). Case ids are
deterministic and payer answers carry the file and claim they came from, so an ingest cut short
(Temporal unreachable) can simply be run again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from db.models import CaseRow, IngestFileRow
from db.remittance_claims import record_adjudicated
from domain.case import Actor, CaseStatus, PayerDecision, PayerResponse
from domain.identity import denial_sequence, fingerprint_of
from domain.models import DenialKind
from domain.remittance_rules import decision_from_remittance, newly_paid, patient_share
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from edi.results import AcknowledgedClaim, AdjudicatedClaim, CaseRecord, ParsedFile
from services import claim_matching as matching
from services.audit import AuditService, Outcome
from services.cases import CaseService
from services.claim_matching import Ambiguous, CaseIndex, EarlierCase
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
    late_payments: int = 0  # payments on cases closed written off: their write-off shrank


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
        # What the files hold (claims, denials, ...) counts for the files ingested only: a
        # failed file started nothing, a duplicate was counted when first ingested, an
        # incomplete one counts when ingested again to finish. What was done (cases started,
        # duplicates skipped, answers matched) counts wherever it happened.
        contents = {"claims", "denials", "rejections", "reversals"}
        total = cls(files=len(reports), reports=reports)
        for report in reports:
            for name in IngestCounts.model_fields:
                if report.status == "ingested" or name not in contents:
                    setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors += len(report.errors)
        return total


def _newly_paid(claim_paid: Decimal, case: CaseRow) -> Decimal:
    """As the read model knows the case: the workflow recounts from its own state (see
    PayerResponse.claim_paid_total)."""
    return newly_paid(claim_paid, case.paid_amount, case.recovered_amount)


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
            record_adjudicated(self._session, sha256, parsed.adjudicated)
            try:
                await self._act(parsed, report, started, progress)
                report.status = "ingested"
            except (Unavailable, Busy) as exc:
                report.status = "incomplete"
                report.errors.append(
                    matching.problem(f"{exc.message}: ingest the file again to finish")
                )
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
        claim_ids = {item.claim_id for item in parsed.adjudicated} | {
            ack.claim.claim_id for ack in parsed.acknowledged
        }
        open_cases = matching.open_cases(self._session, payer_ids, claim_ids)
        today = self._cases.today()  # an answer with no date of its own is dated today
        # (payer, claim number, claim id) answered by a Signal
        answered: set[tuple[str, str, str]] = set()
        unanswered: list[tuple[int, AdjudicatedClaim]] = []  # paid, matching no open case
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
            numbers = matching.numbers(item)
            still_denied = item.classification.is_denial and item.classification.denied_amount > 0
            match = open_cases.match(
                payer_id, *numbers, claim_id=item.claim_id, kinds={DenialKind.DENIAL.value}
            )
            rejection = open_cases.match(
                payer_id, item.claim_id, claim_id=item.claim_id, kinds={DenialKind.REJECTION.value}
            ) or open_cases.unnamed(item.claim_id, item.provider_npi)
            if isinstance(match, Ambiguous) or isinstance(rejection, Ambiguous):
                ambiguous = match if isinstance(match, Ambiguous) else rejection
                report.warnings.append(
                    matching.ambiguity(item.claim_id, ambiguous, item.location)  # type: ignore[arg-type]
                )
                continue
            if match is None and rejection is not None:
                if rejection.status != CaseStatus.AWAITING_PAYER:
                    continue
                match = rejection  # the resubmitted rejection, now adjudicated
                if not still_denied:
                    answered.update((payer_id, number, item.claim_id) for number in numbers)
            elif match is None:
                if item.paid_amount > 0 and not still_denied:
                    unanswered.append((index, item))
                continue
            paid_now = _newly_paid(item.paid_amount, match)
            if match is not rejection:
                if still_denied and match.status != CaseStatus.AWAITING_PAYER and not paid_now:
                    continue  # the same denial again, not an answer: the open case covers it
                answered.update((payer_id, number, item.claim_id) for number in numbers)
            response = PayerResponse(
                decision=decision_from_remittance(
                    paid_now,
                    still_denied,
                    answers_rejection=match is rejection,
                    patient_share=Decimal(0)
                    if paid_now
                    else patient_share(item.claim.all_adjustments()),
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
                ack.claim.payer.payer_id,
                ack.claim.claim_id,
                claim_id=ack.claim.claim_id,
                kinds={DenialKind.REJECTION.value},
            ) or open_cases.unnamed(ack.claim.claim_id, ack.claim.provider_npi)
            if not isinstance(match, CaseRow) or match.status != CaseStatus.AWAITING_PAYER:
                continue
            answered.add((ack.claim.payer.payer_id, ack.claim.claim_id, ack.claim.claim_id))
            actions.append(
                answer(match.case_id, _acknowledgment_response(parsed, index, ack, today))
            )

        actions += self._late_payments(parsed, unanswered, report, today)
        cases = self._identify_rejections(parsed.cases, report)
        existing = matching.existing_cases(self._session, cases)
        for case in cases:
            claim = case.record.claim
            number = matching.case_number(case)
            if (claim.payer.payer_id, number, claim.claim_id) in answered:
                continue
            if self._opened_unnamed(case, open_cases, report):
                continue
            earlier = existing[(case.record.kind.value, claim.payer.payer_id, number)]
            fingerprint = fingerprint_of(claim)
            same_claim = [e[:3] for e in earlier if e.fingerprint == fingerprint]
            record = case.record
            if len(same_claim) < len(earlier):
                # Another claim already holds this number: never merge the two.
                record = record.model_copy(update={"distinguisher": fingerprint})
                report.warnings.append(matching.collision(case, number, earlier, fingerprint))
            sequence = denial_sequence(same_claim, claim.remittance_date, record.kind)
            if sequence is None:
                report.duplicates_skipped += 1
                continue
            earlier.append(EarlierCase(sequence, True, claim.remittance_date, fingerprint))
            record = record.model_copy(update={"sequence": sequence})

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

    def _identify_rejections(self, cases: list[CaseRecord], report: FileReport) -> list[CaseRecord]:
        """999 rejections name no payer (only the 999's sender) and no date of service: take
        them from the claim record where it names one payer, else report what is missing."""
        unnamed = [c.record.claim.claim_id for c in cases if not c.record.payer_named]
        if not unnamed:
            return cases
        records = matching.claim_records(self._session, set(unnamed))
        identified: list[CaseRecord] = []
        for case in cases:
            if case.record.payer_named:
                identified.append(case)
                continue
            found = matching.identified(case.record, records.get(case.record.claim.claim_id, []))
            if isinstance(found, str):
                report.warnings.append(matching.problem(found, case.location))
                identified.append(case)
            else:
                identified.append(case.model_copy(update={"record": found}))
        return identified

    @staticmethod
    def _opened_unnamed(case: CaseRecord, open_cases: CaseIndex, report: FileReport) -> bool:
        """A rejection of a claim that a 999 already opened a case for, payer not yet named:
        the same claim, not a second case."""
        if case.record.kind is not DenialKind.REJECTION:
            return False
        claim = case.record.claim
        opened = open_cases.unnamed(claim.claim_id, claim.provider_npi)
        if opened is None:
            return False
        report.duplicates_skipped += 1
        report.warnings.append(
            matching.problem(
                f"claim {claim.claim_id} already has an open rejection case from a 999 that "
                f"named no payer: not opened again; set its payer ({claim.payer.payer_id}) on "
                "that case",
                case.location,
            )
        )
        return True

    def _late_payments(
        self,
        parsed: ParsedFile,
        paid: list[tuple[int, AdjudicatedClaim]],
        report: FileReport,
        today: date,
    ) -> list[Callable[[], Awaitable[None]]]:
        """Payments on claims whose cases closed written off: each is recorded on its case."""
        if not paid:
            return []
        closed = matching.written_off_cases(self._session, [item for _, item in paid])
        actions: list[Callable[[], Awaitable[None]]] = []
        for index, item in paid:
            match = closed.match(
                item.payer.payer_id,
                *matching.numbers(item),
                claim_id=item.claim_id,
                kinds={DenialKind.DENIAL.value, DenialKind.REJECTION.value},
            )
            if isinstance(match, Ambiguous):
                report.warnings.append(matching.ambiguity(item.claim_id, match, item.location))
                continue
            if match is None or not _newly_paid(item.paid_amount, match):
                continue
            response = PayerResponse(
                decision=PayerDecision.PAID,
                paid_amount=_newly_paid(item.paid_amount, match),
                claim_paid_total=item.paid_amount,
                decision_date=item.remittance_date or today,
                payer_claim_control_number=item.payer_claim_control_number,
                reference=f"{parsed.sha256}:{index}",
                source="835",
            )

            actions.append(self._late_payment(match.case_id, response, item, report))
        return actions

    def _late_payment(
        self, case_id: str, response: PayerResponse, item: AdjudicatedClaim, report: FileReport
    ) -> Callable[[], Awaitable[None]]:
        async def record() -> None:
            if await self._cases.record_late_payment(case_id, response) is not None:
                return  # recorded already (the file sent again), or no longer written off
            report.late_payments += 1
            report.warnings.append(
                matching.problem(
                    f"claim {item.claim_id} was paid ${item.paid_amount:.2f} after its case "
                    "closed written off: recorded on the case, whose write-off is reduced",
                    item.location,
                )
            )

        return record

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
