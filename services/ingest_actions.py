"""What a parsed file does to cases: the answers it carries to open cases, the payments it
records on cases closed written off, what it tells of rejections whose payer no file named, and
the cases it opens. Everything is decided here from the read model, then run as actions (Signals,
Updates, workflow starts) without holding a database connection.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from db.models import CaseRow
from db.workflow_stops import case_is_open
from domain.case import SYSTEM_ACTOR, CaseStatus, PayerDecision, PayerResponse
from domain.identity import case_id_for, denial_sequence, fingerprint_of
from domain.models import Claim, DenialKind, DenialRecord
from domain.remittance_rules import decision_from_remittance, newly_paid, patient_share
from edi.results import AcknowledgedClaim, AdjudicatedClaim, CaseRecord, ParsedFile
from services import claim_matching as matching
from services.cases import CaseService
from services.claim_matching import Ambiguous, CaseIndex, ClaimSeen, EarlierCase
from services.errors import Conflict, Invalid
from services.ingest_report import PROBLEM_LIMIT, FileReport, StartedCase

Action = Callable[[], Awaitable[None]]
_DENIAL, _REJECTION = {DenialKind.DENIAL.value}, {DenialKind.REJECTION.value}


def _newly_paid(claim_paid: Decimal, case: CaseRow) -> Decimal:
    """As the read model knows the case: the workflow recounts from its own state (see
    PayerResponse.claim_paid_total)."""
    return newly_paid(claim_paid, case.paid_amount, case.recovered_amount)


class FileActions:
    """The actions of one file, planned a part at a time (edi.stream.parts), and what they add
    to its report. What one part's plan must know of the parts before it is carried as keys:
    the claims already answered, the cases this file opens (neither matched nor counted as
    earlier cases when the read model shows them), and their sequences for the next denial of
    the same claim number."""

    def __init__(
        self,
        session: Session,
        cases: CaseService,
        report: FileReport,
        started: list[str],
    ) -> None:
        self._session = session
        self._cases = cases
        self._report = report
        self._started = started
        self._today = cases.today()  # an answer with no date of its own is dated today
        self._parsed = ParsedFile(file=report.file, sha256=report.sha256)
        self._actions: list[Action] = []
        # (payer, claim number, claim id) of the claims whose report went to a case already.
        self._answered: set[tuple[str, str, str]] = set()
        # Paid claims whose number only other claims' cases hold, by index: reported if no
        # written-off case of their own takes the payment either.
        self._held_by_others: dict[int, Ambiguous] = {}
        # Answers whose case's workflow was stopped outside the product: the file stays
        # incomplete until they are delivered (ingested again once the case is restarted).
        self.undelivered: list[dict[str, Any]] = []
        # The cases this file opens, by id and by (kind, payer, claim number).
        self._opening: set[str] = set()
        self._opened: dict[tuple[str, str, str], list[EarlierCase]] = defaultdict(list)

    def plan(self, parsed: ParsedFile) -> list[Action]:
        """The actions of one part of the file (or of the whole file)."""
        self._parsed, self._actions, self._held_by_others = parsed, [], {}
        payer_ids = (
            {item.payer.payer_id for item in parsed.adjudicated}
            | {item.claim.payer.payer_id for item in parsed.acknowledged}
            | {case.record.claim.payer.payer_id for case in parsed.cases}
        )
        claim_ids = {item.claim_id for item in parsed.adjudicated} | {
            ack.claim.claim_id for ack in parsed.acknowledged
        }
        numbers = {n for item in parsed.adjudicated for n in matching.numbers(item)} | claim_ids
        open_cases = matching.open_cases(
            self._session, payer_ids, numbers, claim_ids, excluding=self._opening
        )
        first = parsed.first_adjudicated
        unanswered = [
            (index, item)
            for index, item in enumerate(parsed.adjudicated, first)
            if not item.is_reversal and not self._answer_remittance(index, item, open_cases)
        ]
        for index, ack in enumerate(parsed.acknowledged, parsed.first_acknowledged):
            self._answer_acknowledgment(index, ack, open_cases)
        self._late_payments([(i, item) for i, item in unanswered if item.paid_amount > 0])
        self._open_cases(open_cases)
        return self._actions

    def _warn(self, message: str, at: CaseRecord | AdjudicatedClaim | AcknowledgedClaim) -> None:
        self._report.warn(matching.problem(message, at.location))

    # --- answers to open cases ------------------------------------------------------------

    def _answer_remittance(self, index: int, item: AdjudicatedClaim, index_: CaseIndex) -> bool:
        """Send an 835's report of a claim to the open case it answers; whether it found one
        (or was reported as ambiguous)."""
        payer_id, numbers, seen = item.payer.payer_id, matching.numbers(item), ClaimSeen.of(item)
        still_denied = item.classification.is_denial and item.classification.denied_amount > 0
        match = index_.match(payer_id, *numbers, claim=seen, kinds=_DENIAL)
        rejection = index_.match(payer_id, item.claim_id, claim=seen, kinds=_REJECTION)
        unnamed = rejection is None and match is None
        if unnamed:
            rejection = index_.unnamed(seen)
        for found in (match, rejection):
            if isinstance(found, Ambiguous):
                # Held by other claims' cases: a new denial opens its own case (a collision);
                # a payment may still be this claim's late one, or else is reported unplaced.
                if item.paid_amount > 0:
                    self._held_by_others[index] = found
                return False
        assert not isinstance(match, Ambiguous) and not isinstance(rejection, Ambiguous)
        if match is None and rejection is not None:
            paying = _newly_paid(item.paid_amount, rejection) > 0
            if rejection.status != CaseStatus.AWAITING_PAYER and not paying:
                return True  # nothing awaited it, and a payment goes to a case whatever waits
            match = rejection  # the resubmitted rejection, now adjudicated
            if not still_denied:
                self._answered.update((payer_id, n, item.claim_id) for n in numbers)
        elif match is None:
            return False
        paid_now = _newly_paid(item.paid_amount, match)
        if match is not rejection:
            if still_denied and match.status != CaseStatus.AWAITING_PAYER and not paid_now:
                return True  # the same denial again, not an answer: the open case covers it
            self._answered.update((payer_id, n, item.claim_id) for n in numbers)
        outstanding = max(match.denied_amount - match.recovered_amount, Decimal(0))
        moved = Decimal(0) if paid_now else patient_share(item.claim.all_adjustments())
        decision = decision_from_remittance(
            paid_now,
            still_denied,
            answers_rejection=match is rejection,
            # The balance went to the patient only if the PR adjustments cover it.
            patient_share=moved if moved >= outstanding else Decimal(0),
        )
        response = self._remittance_answer(index, item, decision, paid_now)
        self._actions.append(self._answer(match, response, item, item.claim if unnamed else None))
        return True

    def _remittance_answer(
        self, index: int, item: AdjudicatedClaim, decision: PayerDecision, paid_now: Decimal
    ) -> PayerResponse:
        """The answer an 835's report of a claim carries, named by its file and place in it."""
        return PayerResponse(
            decision=decision,
            paid_amount=paid_now,
            claim_paid_total=max(item.paid_amount, Decimal(0)),
            decision_date=item.remittance_date or self._today,
            payer_claim_control_number=item.payer_claim_control_number,
            reference=f"{self._parsed.sha256}:{index}",
            source="835",
        )

    def _answer_acknowledgment(self, index: int, ack: AcknowledgedClaim, cases: CaseIndex) -> None:
        claim = ack.claim
        seen = ClaimSeen.of(claim)
        match = cases.match(claim.payer.payer_id, claim.claim_id, claim=seen, kinds=_REJECTION)
        unnamed = match is None
        if unnamed:
            match = cases.unnamed(seen)
        if isinstance(match, Ambiguous):
            self._report.warn(matching.ambiguity(claim.claim_id, match, ack.location))
            return
        if match is None or match.status != CaseStatus.AWAITING_PAYER:
            return
        self._answered.add((claim.payer.payer_id, claim.claim_id, claim.claim_id))
        response = PayerResponse(
            decision=PayerDecision.ACCEPTED if ack.accepted else PayerDecision.UPHELD,
            decision_date=claim.remittance_date or self._today,
            reference=f"{self._parsed.sha256}:ack{index}",
            notes="; ".join(ack.details),
            source=self._parsed.kind.value if self._parsed.kind else "acknowledgment",
        )
        named = unnamed and bool(claim.payer.name.strip())
        self._actions.append(self._answer(match, response, ack, claim if named else None))

    def _answer(
        self,
        case: CaseRow,
        response: PayerResponse,
        at: AdjudicatedClaim | AcknowledgedClaim,
        identity: Claim | None,
    ) -> Action:
        """Signal the answer; first, for a case whose payer no file named, tell it what this
        file says of the claim (payer, date of service, charge)."""

        async def send() -> None:
            if identity is not None:
                await self._identify(case.case_id, identity)
            if await self._cases.send_payer_response(case.case_id, response):
                self._report.payer_responses_matched += 1
            elif case_is_open(self._session, case.case_id) is not None:
                # Refused as finished while the read model shows it open: each run projects
                # before it ends, so its workflow was stopped outside the product.
                self._undelivered(case, at)
            elif isinstance(at, AdjudicatedClaim) and response.paid_amount > 0:
                await self._late_payment(case, response, at)()  # closed meanwhile: paid late
            else:
                self._warn(
                    f"claim {case.claim_id}: its case closed before this answer reached it: "
                    "not applied",
                    at,
                )

        return send

    def _undelivered(self, case: CaseRow, at: AdjudicatedClaim | AcknowledgedClaim) -> None:
        claim_id = at.claim_id if isinstance(at, AdjudicatedClaim) else at.claim.claim_id
        if len(self.undelivered) >= PROBLEM_LIMIT:
            self._report.errors_omitted += 1
            return
        self.undelivered.append(
            matching.problem(
                f"claim {claim_id}: this file's answer could not reach its case (payer "
                f"{case.payer_id}), whose workflow was stopped outside the case manager "
                "(terminated or failed in Temporal). Once a supervisor restarts it (Restart on "
                f"the case page, /cases/{case.case_id}), ingest this file again to deliver the "
                "answer",
                at.location,
            )
        )

    async def _identify(self, case_id: str, claim: Claim) -> None:
        # Identified meanwhile (by a biller, or another file): theirs stands.
        with contextlib.suppress(Invalid, Conflict):
            await self._cases.identify_claim(
                case_id,
                claim.payer,
                (claim.service_date_from, claim.service_date_to),
                claim.billed_amount if claim.billed_amount > 0 else None,
                SYSTEM_ACTOR,
            )

    # --- late payments --------------------------------------------------------------------

    def _late_payments(self, paid: list[tuple[int, AdjudicatedClaim]]) -> None:
        """Payments on claims whose cases closed written off: each is recorded on its case,
        and the claim (paid in part, the rest still denied) opens no new case."""
        if not paid:
            return
        closed = matching.written_off_cases(self._session, [item for _, item in paid])
        kinds = _DENIAL | _REJECTION
        for index, item in paid:
            numbers = matching.numbers(item)
            match = closed.match(
                item.payer.payer_id, *numbers, claim=ClaimSeen.of(item), kinds=kinds
            )
            if not isinstance(match, CaseRow):
                held = match if isinstance(match, Ambiguous) else self._held_by_others.get(index)
                if held is not None:
                    self._report.warn(matching.ambiguity(item.claim_id, held, item.location))
                continue
            paid_now = _newly_paid(item.paid_amount, match)
            if not paid_now:
                continue  # recorded already; a new denial of the claim opens its own case
            self._answered.update((item.payer.payer_id, n, item.claim_id) for n in numbers)
            response = self._remittance_answer(index, item, PayerDecision.PAID, paid_now)
            self._actions.append(self._late_payment(match, response, item))

    def _late_payment(
        self, case: CaseRow, response: PayerResponse, item: AdjudicatedClaim
    ) -> Action:
        async def record() -> None:
            problem = await self._cases.record_late_payment(case.case_id, response)
            outcome = (case.outcome or "").replace("_", " ")
            if problem is None:
                self._report.late_payments += 1
                self._warn(
                    f"claim {item.claim_id} was paid ${response.paid_amount:.2f} after its case "
                    f"closed {outcome}: recorded on the case, whose write-off is reduced",
                    item,
                )
            elif "already recorded" not in problem:
                self._warn(
                    f"claim {item.claim_id} was paid ${response.paid_amount:.2f} after its case "
                    f"closed {outcome}, but the payment was not recorded: {problem}",
                    item,
                )

        return record

    # --- cases opened ---------------------------------------------------------------------

    def _open_cases(self, open_cases: CaseIndex) -> None:
        cases = self._identify_rejections(self._parsed.cases)
        existing = matching.existing_cases(self._session, cases, excluding=self._opening)
        for case in cases:
            claim = case.record.claim
            number = matching.case_number(case)
            if (claim.payer.payer_id, number, claim.claim_id) in self._answered:
                continue
            if self._opened_unnamed(case, open_cases):
                continue
            key = (case.record.kind.value, claim.payer.payer_id, number)
            earlier = existing[key] + self._opened[key]
            # A rejection's number is its claim id: the same number is the same claim (its
            # stand-in date or charge may differ). A denial's payer claim number may be masked.
            fingerprint = (
                claim.claim_id
                if case.record.kind is DenialKind.REJECTION
                else fingerprint_of(claim)
            )
            same_claim = [e[:3] for e in earlier if e.fingerprint == fingerprint]
            record = case.record
            collides = len(same_claim) < len(earlier)
            if collides:  # another claim already holds this number: never merge the two
                record = record.model_copy(update={"distinguisher": fingerprint})
            sequence = denial_sequence(same_claim, claim.remittance_date, record.kind)
            if sequence is None:
                self._report.duplicates_skipped += 1
                continue
            if collides:
                self._report.warn(matching.collision(case, number, earlier, fingerprint))
            self._opened[key].append(
                EarlierCase(sequence, True, claim.remittance_date, fingerprint)
            )
            record = record.model_copy(update={"sequence": sequence})
            self._opening.add(case_id_for(record))
            self._actions.append(self._start(record))

    def _start(self, record: DenialRecord) -> Action:
        async def start() -> None:
            opened = await self._cases.start_case(record)
            if opened.created:
                self._report.started(
                    StartedCase(case_id=opened.case_id, claim_id=record.claim.claim_id)
                )
                self._started.append(opened.case_id)
            else:
                self._report.duplicates_skipped += 1

        return start

    def _identify_rejections(self, cases: list[CaseRecord]) -> list[CaseRecord]:
        """999 rejections name no payer (only the 999's sender) and no date of service: take
        them from the claim record where it names one payer, else report what is missing."""
        unnamed = {c.record.claim.claim_id for c in cases if not c.record.payer_named}
        if not unnamed:
            return cases
        records = matching.claim_records(self._session, unnamed)
        identified: list[CaseRecord] = []
        for case in cases:
            if case.record.payer_named:
                identified.append(case)
                continue
            found = matching.identified(case.record, records.get(case.record.claim.claim_id, []))
            if isinstance(found, str):
                self._warn(found, case)
                identified.append(case)
            else:
                identified.append(case.model_copy(update={"record": found}))
        return identified

    def _opened_unnamed(self, case: CaseRecord, open_cases: CaseIndex) -> bool:
        """A rejection of a claim that a 999 already opened a case for, payer not yet named:
        the same claim, not a second case. A file that names the payer (a 277CA) tells that
        case the payer, date of service and charge."""
        if case.record.kind is not DenialKind.REJECTION:
            return False
        claim = case.record.claim
        opened = open_cases.unnamed(ClaimSeen.of(claim))
        if not isinstance(opened, CaseRow):
            return False
        self._report.duplicates_skipped += 1
        if case.record.payer_named:
            self._warn(
                f"claim {claim.claim_id} already has an open rejection case from a 999 that "
                f"named no payer: not opened again; that case takes this file's payer "
                f"({claim.payer.payer_id}) and date of service",
                case,
            )

            async def identify() -> None:
                await self._identify(opened.case_id, claim)

            self._actions.append(identify)
        else:
            self._warn(
                f"claim {claim.claim_id} already has an open rejection case from a 999: not "
                "opened again",
                case,
            )
        return True
