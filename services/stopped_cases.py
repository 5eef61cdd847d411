"""Cases whose workflow was stopped outside the product (terminated, failed, timed out or
cancelled in Temporal, or gone from it): noticing them (by the sweep, or when a change to the
case comes back "workflow already completed"), showing them, and restarting them.

A restart starts a new run of the case workflow under the same id from the state the read
model last projected, as continuing as new does: its tasks, deadlines and timers carry on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHistoryEventFilterType, WorkflowQueryFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from db.models import CaseRow, CaseWorkflowStopRow
from db.workflow_stops import (
    StopFound,
    case_is_open,
    clear_stop,
    count_open_stops,
    open_stop,
    open_stops,
    record_stop,
    stopped_among,
)
from domain.case import SYSTEM_ACTOR, Actor, CaseState, CaseStatus
from domain.workflow_stops import (
    DetectedBy,
    StopStatus,
    how_noticed,
    refusal,
    stop_status,
    what_happened,
)
from services.audit import AuditService, Outcome
from services.errors import Conflict, NotFound, ServiceError
from services.temporal_calls import release_connection, temporal_errors
from workflows import search_attributes as sa
from workflows.case_workflow import WORKFLOW_NAME, DenialCaseWorkflow
from workflows.messages import CaseInput

T = TypeVar("T")

CASE_WORKFLOW = WORKFLOW_NAME
DESCRIBE_TIMEOUT = timedelta(seconds=10)
# Who clears a stop when the workflow is found running again without a restart from here
# (reset in the Temporal Web UI, or started by another client).
TEMPORAL = "temporal"


class DbStep(Protocol):
    """Runs a read-model step: in the caller's session (a request), or in a thread (an
    activity, whose event loop must not wait on the database)."""

    async def __call__(self, work: Callable[[Session], T]) -> T: ...


class InSession:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def __call__(self, work: Callable[[Session], T]) -> T:
        return work(self._session)


class InThread:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _run(self, work: Callable[[Session], T]) -> T:
        with Session(self._engine, expire_on_commit=False) as session:
            return work(session)

    async def __call__(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self._run, work)


# --- What Temporal says -----------------------------------------------------------------------


@dataclass(frozen=True)
class LatestRun:
    run_id: str | None
    status: str | None  # a WorkflowExecutionStatus name; None: no workflow with this id
    close_time: datetime | None


async def latest_run(client: Client, case_id: str) -> LatestRun:
    """The case workflow's latest run, described (RPCError when Temporal is unreachable)."""
    try:
        described = await client.get_workflow_handle(case_id).describe(rpc_timeout=DESCRIBE_TIMEOUT)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return LatestRun(None, None, None)
        raise
    status = described.status.name if described.status is not None else "UNSPECIFIED"
    return LatestRun(described.run_id, status, described.close_time)


async def terminated_by(client: Client, case_id: str, run_id: str | None) -> str | None:
    """The identity of the Temporal client that terminated the run (CLI: user@host; the Web
    UI: its signed-in user). Its free-text reason is not read: it may say anything."""
    handle = client.get_workflow_handle(case_id, run_id=run_id)
    try:
        async for event in handle.fetch_history_events(
            event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT,
            rpc_timeout=DESCRIBE_TIMEOUT,
        ):
            if event.HasField("workflow_execution_terminated_event_attributes"):
                return event.workflow_execution_terminated_event_attributes.identity or None
    except RPCError:  # who did it is a detail: the stop is recorded without it
        return None
    return None


async def found_stop(client: Client, case_id: str) -> StopFound | None:
    """The case's latest run when it stopped (or is gone); None while it runs or completed."""
    run = await latest_run(client, case_id)
    status = stop_status(run.status)
    if status is None:
        return None
    by = (
        await terminated_by(client, case_id, run.run_id)
        if status is StopStatus.TERMINATED
        else None
    )
    return StopFound(case_id, run.run_id, status, run.close_time, by)


# --- Noticing and clearing -----------------------------------------------------------------


@dataclass(frozen=True)
class Noticed:
    stop: CaseWorkflowStopRow
    new: bool  # recorded by this call (and audited), not found recorded already


def _audit_noticed(session: Session, stop: CaseWorkflowStopRow) -> None:
    AuditService(session).record(
        SYSTEM_ACTOR,
        "case.workflow_stopped",
        case_id=stop.case_id,
        status=stop.status,
        run_id=stop.run_id,
        stopped_at=stop.stopped_at.isoformat() if stop.stopped_at else None,
        stopped_by=stop.stopped_by,
        detected_by=stop.detected_by,
        version=stop.case_version,
    )


def _audit_cleared(
    session: Session, stop: CaseWorkflowStopRow, actor: Actor, new_run_id: str | None
) -> None:
    AuditService(session).record(
        actor,
        "case.workflow_running_again",
        case_id=stop.case_id,
        status=stop.status,
        run_id=new_run_id,
    )


async def notice_stop(
    client: Client, db: DbStep, case_id: str, detected_by: DetectedBy
) -> Noticed | None:
    """The case's open stop, recorded (and audited) now if its latest run stopped and nobody
    had recorded it; None while its workflow runs, or when the read model shows it closed."""
    found = await found_stop(client, case_id)
    if found is None:
        return None
    now = datetime.now(UTC)
    recorded = await db(lambda session: record_stop(session, found, detected_by, now))
    if recorded is None:
        existing = await db(lambda session: open_stop(session, case_id))
        return Noticed(existing, new=False) if existing is not None else None
    # A restart may have started a new run between the description and the write: look again,
    # and take the record back if so (the restart clears stops only after its run started).
    again = await latest_run(client, case_id)
    if stop_status(again.status) is None:
        await db(lambda session: clear_stop(session, case_id, TEMPORAL, now, again.run_id))
        return None
    await db(lambda session: _audit_noticed(session, recorded))
    return Noticed(recorded, new=True)


async def clear_if_running(client: Client, db: DbStep, case_id: str) -> bool:
    """Clear the case's open stop if its workflow runs again (reset or started in Temporal,
    not restarted here); whether it was cleared."""
    run = await latest_run(client, case_id)
    if stop_status(run.status) is not None:
        return False
    now = datetime.now(UTC)

    def clear(session: Session) -> bool:
        stop = clear_stop(session, case_id, TEMPORAL, now, run.run_id)
        if stop is not None:
            _audit_cleared(session, stop, SYSTEM_ACTOR, run.run_id)
        return stop is not None

    return await db(clear)


# --- A change refused by a finished workflow -------------------------------------------------


class CaseWorkflowStopped(Conflict):
    """A change refused because the case's workflow was stopped outside the product."""


async def explain_finished(session: Session, client: Client, case_id: str) -> ServiceError:
    """Why a change was refused with "workflow already completed": the case is closed, or its
    workflow was stopped outside the product while the read model shows it open (recorded
    now, and said, with what to do)."""
    closed = Conflict(f"case {case_id} is closed")
    if case_is_open(session, case_id) is None:
        return closed
    try:
        noticed = await notice_stop(client, InSession(session), case_id, DetectedBy.ACTION)
    except RPCError:  # Temporal went away meanwhile: the plain answer stands
        return closed
    if noticed is None:
        return Conflict(
            f"case {case_id} did not take the change: its workflow moved to a new run "
            "meanwhile. Reload the case and try again"
        )
    stop = noticed.stop
    return CaseWorkflowStopped(refusal(case_id, StopStatus(stop.status), stop.stopped_at))


def case_errors(
    session: Session, client: Client, case_id: str
) -> AbstractAsyncContextManager[None]:
    """temporal_errors for a change to a case, telling a stopped workflow from a closed case."""
    return temporal_errors(case_id, when_gone=lambda: explain_finished(session, client, case_id))


STOPPED_RUN_QUERY_SECONDS = 5.0


# --- Views and the restart -----------------------------------------------------------------


class StoppedCaseView(BaseModel):
    case_id: str
    claim_id: str
    payer_name: str
    case_status: str
    assignee: str | None
    status: StopStatus
    what_happened: str
    stopped_at: datetime | None
    stopped_by: str | None
    run_id: str | None
    detected_at: datetime
    detected_by: DetectedBy
    noticed: str


class RestartedCase(BaseModel):
    case_id: str
    run_id: str | None
    version: int = 0
    status: CaseStatus
    was: StopStatus


def _view(stop: CaseWorkflowStopRow, case: CaseRow) -> StoppedCaseView:
    status = StopStatus(stop.status)
    return StoppedCaseView(
        case_id=case.case_id,
        claim_id=case.claim_id,
        payer_name=case.payer_name or case.payer_id,
        case_status=case.status,
        assignee=case.assignee,
        status=status,
        what_happened=what_happened(status),
        stopped_at=stop.stopped_at,
        stopped_by=stop.stopped_by,
        run_id=stop.run_id,
        detected_at=stop.detected_at,
        detected_by=DetectedBy(stop.detected_by),
        noticed=how_noticed(DetectedBy(stop.detected_by)),
    )


class StoppedCaseService:
    """Stopped cases for supervisors: the list, one case's stop, and the restart (audited)."""

    def __init__(
        self, session: Session, client: Client, task_queue: str, audit: AuditService
    ) -> None:
        self._session = session
        self._client = client
        self._task_queue = task_queue
        self._audit = audit

    def list_stopped(self, actor: Actor, limit: int = 100) -> list[StoppedCaseView]:
        views = [_view(stop, case) for stop, case in open_stops(self._session, limit)]
        self._audit.record(actor, "case.list_stopped", shown=len(views))
        return views

    def count(self) -> int:
        return sum(count_open_stops(self._session).values())

    def stopped_among(self, case_ids: list[str]) -> set[str]:
        return stopped_among(self._session, case_ids)

    def stop_of(self, case_id: str) -> StoppedCaseView | None:
        """The case's open stop (its page shows it; the page's view is audited already)."""
        stop = open_stop(self._session, case_id)
        case = self._session.get(CaseRow, case_id)
        return _view(stop, case) if stop is not None and case is not None else None

    async def restart(self, case_id: str, actor: Actor) -> RestartedCase:
        try:
            restarted, stop = await self._restart(case_id)
        except ServiceError as exc:
            outcome = Outcome.FAILED if exc.status_code >= 500 else Outcome.REFUSED
            self._audit.record(
                actor, "case.restart_workflow", outcome, case_id=case_id, reason=exc.message
            )
            raise
        clear_stop(self._session, case_id, actor.user_id, datetime.now(UTC), restarted.run_id)
        self._audit.record(
            actor,
            "case.restart_workflow",
            case_id=case_id,
            status=stop.status,
            run_id=restarted.run_id,
            version=restarted.version,
        )
        return restarted

    def _projected(self, case_id: str) -> CaseState:
        """The case as its last run projected it (read afresh, not from the identity map)."""
        found = self._session.exec(
            select(CaseRow.status, CaseRow.state).where(CaseRow.case_id == case_id)
        ).first()
        if found is None:
            raise NotFound(f"no case {case_id}")
        if found[0] == CaseStatus.CLOSED:
            raise Conflict(f"case {case_id} is closed: its workflow ended with it")
        return CaseState.model_validate(found[1])

    async def _last_state(self, case_id: str, run_id: str | None) -> CaseState:
        """The case as the stopped run held it when it can still be read (a Query replays the
        run: answers it took but never projected are kept), else as it last projected it."""
        projected = self._projected(case_id)
        if run_id is None:
            return projected
        handle = self._client.get_workflow_handle_for(
            DenialCaseWorkflow.run, case_id, run_id=run_id
        )
        try:
            async with asyncio.timeout(STOPPED_RUN_QUERY_SECONDS):
                held = await handle.query(DenialCaseWorkflow.state)
        except (TimeoutError, RPCError, WorkflowQueryFailedError):
            return projected  # a failed run may not replay, a worker may be busy
        return held if held.version >= projected.version else projected

    async def _restart(self, case_id: str) -> tuple[RestartedCase, CaseWorkflowStopRow]:
        state = self._projected(case_id)
        release_connection(self._session)
        async with temporal_errors(case_id):
            noticed = await notice_stop(
                self._client, InSession(self._session), case_id, DetectedBy.RESTART
            )
            if noticed is None:
                raise Conflict(f"case {case_id}'s workflow is running: there is nothing to restart")
            state = await self._last_state(case_id, noticed.stop.run_id)
            try:
                handle = await self._client.start_workflow(
                    DenialCaseWorkflow.run,
                    CaseInput(
                        case_id=case_id, record=state.record, policy=state.policy, resume=state
                    ),
                    id=case_id,
                    task_queue=self._task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(sa.CASE_STATUS, state.status.value),
                            SearchAttributePair(sa.PAYER_ID, state.record.claim.payer.payer_id),
                        ]
                    ),
                )
            except WorkflowAlreadyStartedError as exc:
                raise Conflict(
                    f"case {case_id}'s workflow was restarted meanwhile: reload the case"
                ) from exc
        restarted = RestartedCase(
            case_id=case_id,
            run_id=handle.result_run_id,
            version=state.version,
            status=state.status,
            was=StopStatus(noticed.stop.status),
        )
        return restarted, noticed.stop
