"""Case operations: open a case for a denial, read and search the read model, and the
case-level actions that go to the workflow as Updates or Signals."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from sqlalchemy import Row, bindparam
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from db.models import CaseEventRow, CaseRow, TaskRow
from domain.case import Actor, CasePolicy, CaseState, CaseStatus, PayerResponse
from domain.deadlines import DeadlineKind
from domain.identity import case_id_for, claim_fingerprint, fingerprint_of
from domain.models import DenialRecord, Payer
from domain.payer_answers import (
    duplicate_problem,
    late_payment_problem,
    posted_answer_problem,
    reference_for,
    takes_late_payment,
)
from domain.rulebook import Rulebook
from services.audit import AuditService, Outcome
from services.audited_updates import AuditedUpdates, Change
from services.case_list import bounded, cursor_at, page_statements, summaries
from services.case_search import named_users
from services.cursors import decode_cursor
from services.errors import Busy, Conflict, Invalid, NotFound, ServiceError
from services.schemas import (
    CASE_SORT_KEYS,
    CaseDetail,
    CaseFilters,
    CaseSummary,
    EventView,
    OpenedCase,
    Page,
    TaskSummary,
)
from services.temporal_calls import release_connection, temporal_errors
from workflows import search_attributes as sa
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AddNote,
    CancelCase,
    CaseChange,
    CaseInput,
    ChangePriority,
    IdentifyClaim,
    RecordExtension,
    RefreshRules,
)

T = TypeVar("T")
# A late payment waits for a run of its case still going (finishing its close, or recording
# another payment) this many times before the ingest is left incomplete.
LATE_PAYMENT_ATTEMPTS = 3


# A case's tasks and timeline, as every read of a case selects them: built once (building a
# statement and its cache key per call cost more CPU than running it on SQLite).
_CASE_TASKS = (
    select(TaskRow)
    .where(col(TaskRow.case_id) == bindparam("case_id"))
    .order_by(col(TaskRow.created_at))
)
_CASE_EVENTS = (
    select(CaseEventRow)
    .where(col(CaseEventRow.case_id) == bindparam("case_id"))
    .order_by(col(CaseEventRow.seq))
)


class CaseService:
    """Case operations for an acting user; every view and every change is audited."""

    def __init__(
        self,
        session: Session,
        client: Client,
        rulebook: Rulebook,
        policy: CasePolicy,
        task_queue: str,
        audit: AuditService,
    ) -> None:
        self._session = session
        self._client = client
        self._rulebook = rulebook
        self._policy = policy
        self._task_queue = task_queue
        self._audit = audit
        self._updates = AuditedUpdates(session, client, audit)

    def today(self) -> date:
        """The billing office's calendar day now, as the case workflows count it."""
        return self._policy.today(datetime.now(UTC))

    # --- Opening ----------------------------------------------------------------------------

    async def open_case(self, record: DenialRecord, actor: Actor) -> OpenedCase:
        """Start the case workflow for a denial; the same denial twice opens one case. Audited
        when a case opens, or the opening is refused or fails."""
        classification = self._rulebook.classify(record)
        if not classification.is_denial:
            reason = "not a denial: " + "; ".join(classification.reasons)
            self._audit.record(actor, "case.open", Outcome.REFUSED, reason=reason)
            raise Invalid(reason)
        if record.claim.billed_amount < 0 or record.claim.paid_amount < 0:
            reason = "billed_amount and paid_amount cannot be negative on a denied claim"
            self._audit.record(actor, "case.open", Outcome.REFUSED, reason=reason)
            raise Invalid(reason)
        record = self._apart_from_other_claims(record)
        case_id = case_id_for(record)
        if self._session.get(CaseRow, case_id) is not None:
            opened = OpenedCase(case_id=case_id, created=False)
        else:
            release_connection(self._session)
            try:
                opened = await self.start_case(record)
            except ServiceError as exc:
                self._audit.record(
                    actor, "case.open", Outcome.FAILED, case_id=case_id, reason=exc.message
                )
                raise
        if opened.created:  # the same denial again changes nothing: no entry
            self._audit.record(actor, "case.open", case_id=case_id, created=True)
        return opened

    def _apart_from_other_claims(self, record: DenialRecord) -> DenialRecord:
        """A claim whose payer claim number a case of another claim holds gets an id of its
        own (see domain.identity), never that case."""
        existing = self._session.get(CaseRow, case_id_for(record))
        if existing is None:
            return record
        held = claim_fingerprint(
            existing.claim_id, existing.service_date_from, existing.billed_amount
        )
        mine = fingerprint_of(record.claim)
        return record if held == mine else record.model_copy(update={"distinguisher": mine})

    async def start_case(self, record: DenialRecord) -> OpenedCase:
        """Start the workflow without looking at the read model (safe to run concurrently):
        the deterministic id makes a second start of the same denial a no-op."""
        case_id = case_id_for(record)
        async with temporal_errors(case_id):
            try:
                await self._client.start_workflow(
                    DenialCaseWorkflow.run,
                    CaseInput(case_id=case_id, record=record, policy=self._policy),
                    id=case_id,
                    task_queue=self._task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    search_attributes=_search_attributes(CaseStatus.RECEIVED, record),
                )
            except WorkflowAlreadyStartedError:
                return OpenedCase(case_id=case_id, created=False)
        return OpenedCase(case_id=case_id, created=True)

    # --- Reading ----------------------------------------------------------------------------

    def list_cases(self, filters: CaseFilters, actor: Actor) -> Page[CaseSummary]:
        """A page of the list, with cursors for the pages either side of it and the count
        bounded by services.case_list.COUNT_BOUND."""
        count, statements = page_statements(filters, named_users(self._session, filters))
        total = self._session.exec(count).one()
        rows: list[Row[Any]] = []
        for statement in statements:  # runs in turn until one more than a page is found
            rows += self._session.execute(statement).all()
            if len(rows) > filters.limit:
                break
        backwards = (
            filters.cursor is not None and decode_cursor(filters.cursor, CASE_SORT_KEYS).before
        )
        more = len(rows) > filters.limit  # beyond this page, in the direction read
        rows = rows[: filters.limit]
        if backwards:
            rows.reverse()
        # Coming from a cursor, the page it came from is on the other side.
        after = more if not backwards else filters.cursor is not None
        before = (filters.cursor is not None or filters.offset > 0) if not backwards else more
        shown_total, capped = bounded(total)
        self._audit.record(
            actor,
            "case.list",
            filters=filters.model_dump_json(exclude_defaults=True),
            shown=len(rows),
        )
        return Page[CaseSummary](
            items=summaries(rows),
            total=shown_total,
            total_capped=capped,
            limit=filters.limit,
            offset=filters.offset,
            next_cursor=cursor_at(filters, rows[-1], before=False) if after and rows else None,
            prev_cursor=cursor_at(filters, rows[0], before=True) if before and rows else None,
        )

    def get_row(self, case_id: str) -> CaseRow:
        row = self._session.get(CaseRow, case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        return row

    def get_case(self, case_id: str, actor: Actor) -> CaseDetail:
        row = self.get_row(case_id)
        tasks = self._session.exec(_CASE_TASKS, params={"case_id": case_id}).all()
        events = self._session.exec(_CASE_EVENTS, params={"case_id": case_id}).all()
        self._audit.record(actor, "case.view", case_id=case_id)
        return CaseDetail(
            summary=CaseSummary.model_validate(row),
            state=CaseState.model_validate(row.state),
            tasks=[TaskSummary.model_validate(task) for task in tasks],
            timeline=[EventView.model_validate(event) for event in events],
        )

    async def live_case(self, case_id: str, actor: Actor) -> CaseState:
        """The case as its workflow holds it now (the source of truth), by Query."""
        handle = self._handle(case_id)
        release_connection(self._session)
        async with temporal_errors(case_id):
            state = await handle.query(DenialCaseWorkflow.state)
        self._audit.record(actor, "case.view_live", case_id=case_id)
        return state

    # --- Case-level actions ----------------------------------------------------------------

    def _handle(self, case_id: str) -> WorkflowHandle[DenialCaseWorkflow, object]:
        self.get_row(case_id)
        return self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)

    async def _change(
        self,
        actor: Actor,
        action: str,
        case_id: str,
        change: Change[T],
        sent: Callable[[], bool] = lambda: True,
        **detail: object,
    ) -> T:
        self.get_row(case_id)  # an unknown case is a 404, before anything is sent
        return await self._updates.send(actor, action, case_id, change, sent=sent, **detail)

    async def add_note(self, case_id: str, text: str, actor: Actor) -> CaseChange:
        return await self._change(
            actor,
            "case.note",
            case_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.add_note, AddNote(actor=actor, text=text), id=update_id
            ),
        )

    async def cancel_case(self, case_id: str, reason: str, actor: Actor) -> CaseChange:
        return await self._change(
            actor,
            "case.cancel",
            case_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.cancel_case,
                CancelCase(actor=actor, reason=reason),
                id=update_id,
            ),
            why=reason,
        )

    async def change_priority(
        self, case_id: str, adjustment: float, reason: str, actor: Actor
    ) -> CaseChange:
        return await self._change(
            actor,
            "case.priority",
            case_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.change_priority,
                ChangePriority(actor=actor, adjustment=adjustment, reason=reason),
                id=update_id,
            ),
            adjustment=adjustment,
        )

    async def record_extension(
        self,
        case_id: str,
        kind: DeadlineKind,
        level: int | None,
        new_due: date,
        reason: str,
        actor: Actor,
    ) -> CaseChange:
        return await self._change(
            actor,
            "case.extension",
            case_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.record_extension,
                RecordExtension(
                    actor=actor, kind=kind, level=level, new_due=new_due, reason=reason
                ),
                id=update_id,
            ),
            deadline=kind.value,
            new_due=new_due.isoformat(),
        )

    async def identify_claim(
        self,
        case_id: str,
        payer: Payer | None,
        served: tuple[date, date | None],
        billed_amount: Decimal | None,
        actor: Actor,
    ) -> CaseChange:
        request = IdentifyClaim(
            actor=actor,
            payer=payer,
            service_date_from=served[0],
            service_date_to=served[1],
            billed_amount=billed_amount,
        )
        return await self._change(
            actor,
            "case.identify_claim",
            case_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.identify_claim, request, id=update_id
            ),
            payer_id=payer.payer_id if payer else None,
        )

    async def refresh_rules(self, case_id: str, actor: Actor) -> CaseChange:
        return await self._change(
            actor,
            "case.refresh_rules",
            case_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.refresh_rules, RefreshRules(actor=actor), id=update_id
            ),
        )

    async def signal_payer_response(
        self, case_id: str, response: PayerResponse, actor: Actor
    ) -> None:
        """Record an answer typed in outside a task, checked as the task's Update checks it
        against the case as its workflow holds it now; the workflow ignores an answer whose
        reference it already holds, so two posts racing each other still count once. A
        payment on a case closed written off is a late payment: the write-off shrinks."""
        answer = response.model_copy(update={"reference": reference_for(response)})

        def refuse(state: CaseState, problem: str) -> NoReturn:
            duplicate = duplicate_problem(state, answer) is not None
            raise (Conflict if duplicate else Invalid)(problem)

        sent = False  # a Query unanswered sent nothing; a late payment's run may still apply

        async def check_and_send(
            handle: WorkflowHandle[DenialCaseWorkflow, object], _update_id: str
        ) -> None:
            # A Signal, or a new run for a late payment: neither is an Update of the open run.
            nonlocal sent
            closed = self._closed_state(case_id)
            state = closed or await handle.query(DenialCaseWorkflow.state)
            if state.status is CaseStatus.CLOSED and not takes_late_payment(state):
                raise Conflict(f"case {case_id} is closed")
            problem = posted_answer_problem(state, response, self.today())
            if problem is not None:
                refuse(state, problem)
            sent = True
            if state.status is CaseStatus.CLOSED:
                problem = await self.record_late_payment(case_id, answer, typed=True)
                if problem is not None:
                    refuse(state, problem)
            else:
                await handle.signal(DenialCaseWorkflow.payer_response, answer)

        await self._change(
            actor,
            "case.payer_response",
            case_id,
            check_and_send,
            sent=lambda: sent,
            decision=response.decision.value,
        )

    def _closed_state(self, case_id: str) -> CaseState | None:
        """The state of a closed case as its last run projected it (a closed run may be past
        the server's retention, where a Query finds nothing); None while it is open. Read
        afresh, not from the session's identity map."""
        found = self._session.exec(
            select(CaseRow.status, CaseRow.state).where(CaseRow.case_id == case_id)
        ).first()
        if found is None or found[0] != CaseStatus.CLOSED:
            return None
        return CaseState.model_validate(found[1])

    async def record_late_payment(
        self, case_id: str, response: PayerResponse, *, typed: bool = False
    ) -> str | None:
        """Record a payment on a case closed written off: a new run of its workflow (the same
        id, starting from the last run's projected state) applies it and closes again. Why it
        was not recorded, or None when it was: the run is awaited and the case read again, so
        a payment that added nothing (recorded already) is not reported as recorded."""
        handle = self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
        for _ in range(LATE_PAYMENT_ATTEMPTS):
            state = self._closed_state(case_id)
            if state is None:
                return "the case is open: the payment goes to it as an answer"
            problem = late_payment_problem(state, response, self.today(), typed=typed)
            if problem is not None:
                return problem
            release_connection(self._session)
            async with temporal_errors(case_id):
                try:
                    run = await self._client.start_workflow(
                        DenialCaseWorkflow.run,
                        CaseInput(
                            case_id=case_id,
                            record=state.record,
                            policy=state.policy,
                            resume=state,
                            late_payment=response,
                        ),
                        id=case_id,
                        task_queue=self._task_queue,
                        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                        search_attributes=_search_attributes(state.status, state.record),
                    )
                    result = await run.result()
                except WorkflowAlreadyStartedError:
                    with contextlib.suppress(WorkflowFailureError):
                        await handle.result()  # its projection is done when it completes
                    continue
            if result.late_payment_recorded:
                return None
            return "nothing newly paid: the payment is recorded already"
        raise Busy(f"case {case_id} kept changing while a late payment was recorded: try again")

    async def send_payer_response(self, case_id: str, response: PayerResponse) -> bool:
        """Signal without the read-model check (ingest); False when the case has closed."""
        try:
            async with temporal_errors(case_id):
                handle = self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
                await handle.signal(DenialCaseWorkflow.payer_response, response)
        except Conflict:
            return False
        return True


def _search_attributes(status: CaseStatus, record: DenialRecord) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.CASE_STATUS, status.value),
            SearchAttributePair(sa.PAYER_ID, record.claim.payer.payer_id),
        ]
    )
