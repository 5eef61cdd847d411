"""Task operations: worklists from the read model, and task actions sent to the workflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import Session, col, select
from temporalio.client import Client

from db.models import CaseRow, TaskRow, UserRow
from domain.appeals.corrections import ClaimCorrections
from domain.case import Actor, CaseState, EscalationLevel, Role, TaskStatus
from domain.claim_checks.findings import ClaimCheckResult
from domain.permissions import Permission, allows
from domain.worklist import SHOWN_THOUGH_PARKED, WAITING_ON_PAYER, WorkView
from services.appeals import AppealService
from services.audit import AuditService, Outcome
from services.audited_updates import AuditedUpdates, Change
from services.case_list import COUNT_BOUND, bounded
from services.corrected_claim_check import CorrectedClaimCheck
from services.errors import Invalid, NotFound, ServiceError
from services.follow_ups import FollowUpService, parked_case
from services.keyset import after_row, ordering, reverse
from services.schemas import Page, TaskWithCase
from services.supervision import OutOfOffice, refuse_if_away
from services.task_order import read_cursor, task_cursor, task_order
from services.temporal_calls import release_connection
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import (
    AppealSubmitted,
    CaseChange,
    ClaimTask,
    CompleteTask,
    ReassignTask,
    ReleaseTask,
    TaskPayload,
)


class BulkOutcome(BaseModel):
    task_id: str
    ok: bool
    status_code: int
    detail: str = ""


def _conditions(
    *,
    assignee: str | None,
    queue: Role | None,
    unassigned: bool,
    status: TaskStatus | None = TaskStatus.OPEN,
    case_id: str | None = None,
    category: str | None = None,
    payer_id: str | None = None,
    escalated: bool | None = None,
    stalled: bool | None = None,
    other_than_case: str | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if other_than_case:
        conditions.append(col(TaskRow.case_id) != other_than_case)
    if category:
        conditions.append(col(CaseRow.category) == category)
    if payer_id:
        conditions.append(col(CaseRow.payer_id) == payer_id)
    if escalated is not None:
        at_least_escalated = col(TaskRow.escalation) >= int(EscalationLevel.ESCALATED)
        conditions.append(at_least_escalated if escalated else ~at_least_escalated)
    if stalled is not None:
        conditions.append(col(TaskRow.stalled) == stalled)
    if assignee:
        conditions.append(col(TaskRow.assignee) == assignee)
    if unassigned:
        conditions.append(col(TaskRow.assignee).is_(None))
    if queue:
        conditions.append(col(TaskRow.queue) == queue.value)
    if status:
        conditions.append(col(TaskRow.status) == status.value)
    if case_id:
        conditions.append(col(TaskRow.case_id) == case_id)
    return conditions


# What a worklist row shows of its case.
_HEADLINE = {
    "claim_id": col(CaseRow.claim_id),
    "payer_name": col(CaseRow.payer_name),
    "category": col(CaseRow.category),
    "denied_amount": col(CaseRow.denied_amount),
    "payer_claim_control_number": col(CaseRow.payer_claim_control_number),
    "case_status": col(CaseRow.status),
}


def _waiting() -> ColumnElement[bool]:
    return col(TaskRow.type).in_([t.value for t in WAITING_ON_PAYER])


def _hidden_by_parking(today: date) -> ColumnElement[bool]:
    return parked_case(today) & (col(TaskRow.escalation) < SHOWN_THOUGH_PARKED)


def _in_view(view: WorkView, today: date) -> list[ColumnElement[bool]]:
    if view is WorkView.ACTIONABLE:
        return [~_waiting(), ~_hidden_by_parking(today)]
    if view is WorkView.WAITING:
        return [_waiting()]
    if view is WorkView.PARKED:
        return [~_waiting(), _hidden_by_parking(today)]
    return []


class TaskService:
    """Worklists and task actions for an acting user; every action is audited."""

    def __init__(
        self,
        session: Session,
        client: Client,
        audit: AuditService,
        today: Callable[[], date],
        *,
        appeals: AppealService | None = None,
        claim_check: CorrectedClaimCheck | None = None,
    ) -> None:
        self._session = session
        self._appeals = appeals  # prepares appeal submissions (their letter)
        self._claim_check = claim_check  # checks a corrected claim before it is sent
        self._client = client
        self._audit = audit
        self._updates = AuditedUpdates(session, client, audit)
        self._today = today  # the office's day: follow-up dates park cases until then
        self._follow_ups = FollowUpService(session, audit, today)

    def list_tasks(
        self,
        actor: Actor,
        *,
        assignee: str | None = None,
        queue: Role | None = None,
        unassigned: bool = False,
        status: TaskStatus | None = TaskStatus.OPEN,
        case_id: str | None = None,
        category: str | None = None,
        payer_id: str | None = None,
        escalated: bool | None = None,
        stalled: bool | None = None,
        other_than_case: str | None = None,
        view: WorkView = WorkView.ALL,
        by_deadline: bool = False,
        limit: int = 50,
        offset: int = 0,
        cursor: str | None = None,
    ) -> Page[TaskWithCase]:
        """Tasks with their case's headline, in a view (domain.worklist.WorkView), in its
        order (services.task_order); a page after (or before) the one a cursor names, or
        `offset` in. The count stops at COUNT_BOUND (total_capped)."""
        today = self._today()
        conditions = [
            *_conditions(
                assignee=assignee,
                queue=queue,
                unassigned=unassigned,
                status=status,
                case_id=case_id,
                category=category,
                payer_id=payer_id,
                escalated=escalated,
                stalled=stalled,
                other_than_case=other_than_case,
            ),
            *_in_view(view, today),
        ]
        joined = col(CaseRow.case_id) == col(TaskRow.case_id)
        # Read the cases (wide rows) only to filter on them, and for the page's rows at the end.
        counted = select(TaskRow.task_id)
        if category or payer_id:
            counted = counted.join(CaseRow, joined)
        matching = counted.where(*conditions).limit(COUNT_BOUND + 1).subquery()
        total = self._session.exec(select(func.count()).select_from(matching)).one()
        name, order = task_order(view, by_deadline)
        found = read_cursor(cursor, name) if cursor else None
        backwards = found is not None and found.before
        walk = reverse(order) if backwards else order
        # The page is chosen among the tasks alone; only its rows then read their case's
        # headline (a case row carries its state document: kilobytes each through the sort).
        page = select(TaskRow.task_id)
        if category or payer_id:
            page = page.join(CaseRow, joined)
        page = page.where(*conditions)
        if found is not None:  # after (or before) the row the cursor names, not `offset` in
            page = page.where(after_row(walk, (*found.keys, found.id)))
        page = page.order_by(*ordering(walk)).offset(offset).limit(limit + 1)
        rows = self._session.exec(
            select(TaskRow, *_HEADLINE.values())
            .join(CaseRow, joined)
            .where(col(TaskRow.task_id).in_(page.scalar_subquery()))
            .order_by(*ordering(walk))
        ).all()
        more = len(rows) > limit  # beyond this page, in the direction read
        rows = list(rows[:limit])
        if backwards:
            rows.reverse()
        follow_ups = self._follow_ups.among(row[0].case_id for row in rows)
        items = []
        for task, *headline in rows:
            follow_up = follow_ups.get(task.case_id)
            items.append(
                TaskWithCase.model_validate(
                    {
                        **task.model_dump(),
                        **dict(zip(_HEADLINE, headline, strict=True)),
                        "waiting_on_payer": task.type in WAITING_ON_PAYER,
                        "follow_up_on": follow_up.follow_up_on if follow_up else None,
                        "parked": bool(follow_up and follow_up.parked),
                    }
                )
            )
        self._audit.record(
            actor,
            "task.list",
            assignee=assignee,
            queue=queue.value if queue else None,
            unassigned=unassigned or None,
            case_id=case_id,
            view=view.value,
            shown=len(items),
        )
        # Coming from a cursor, the page it came from is on the other side.
        after = more if not backwards else True
        before = (found is not None or offset > 0) if not backwards else more

        def cursor_at(task: TaskRow, *, before: bool) -> str:
            follow_up = follow_ups.get(task.case_id)
            back_on = follow_up.follow_up_on if follow_up else None
            return task_cursor(name, task, back_on, before=before)

        shown_total, capped = bounded(total)
        return Page[TaskWithCase](
            items=items,
            total=shown_total,
            total_capped=capped,
            limit=limit,
            offset=offset,
            next_cursor=cursor_at(rows[-1][0], before=False) if after and rows else None,
            prev_cursor=cursor_at(rows[0][0], before=True) if before and rows else None,
        )

    def next_task(self, actor: Actor, other_than_case: str | None = None) -> TaskWithCase | None:
        """The top of the user's actionable tasks (on another case than the one given): what
        to work next."""
        page = self.list_tasks(
            actor,
            assignee=actor.user_id,
            other_than_case=other_than_case,
            view=WorkView.ACTIONABLE,
            limit=1,
            offset=0,
        )
        return page.items[0] if page.items else None

    def count_by_view(
        self, *, assignee: str | None = None, queue: Role | None = None, unassigned: bool = False
    ) -> dict[WorkView, int]:
        """How many open tasks each tab of a worklist holds, in one query."""
        today = self._today()
        views = (WorkView.ACTIONABLE, WorkView.WAITING, WorkView.PARKED)
        sums = [
            func.coalesce(func.sum(case((and_(*_in_view(view, today)), 1), else_=0)), 0)
            for view in views
        ]
        found = self._session.exec(
            select(*sums).where(*_conditions(assignee=assignee, queue=queue, unassigned=unassigned))
        ).one()
        return dict(zip(views, (int(n) for n in found), strict=True))

    def get_task(self, task_id: str) -> TaskRow:
        task = self._session.get(TaskRow, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        return task

    async def _act(
        self,
        actor: Actor,
        action: str,
        task_id: str,
        update: Change[CaseChange],
        **detail: object,
    ) -> CaseChange:
        """Send one task action to its case's workflow (services.audited_updates)."""
        try:
            case_id = self.get_task(task_id).case_id
        except NotFound as exc:
            self._audit.record(actor, action, Outcome.REFUSED, task_id=task_id, reason=exc.message)
            raise
        return await self._updates.send(actor, action, case_id, update, task_id=task_id, **detail)

    async def complete(self, task_id: str, payload: TaskPayload, actor: Actor) -> CaseChange:
        if isinstance(payload, AppealSubmitted) and self._appeals is not None:
            # The letter goes with the appeal, the argument in it; refused while unfinished.
            case_id = self.get_task(task_id).case_id
            payload = self._appeals.finished_payload(case_id, payload, actor)
        corrections = getattr(payload, "claim_corrections", None)
        if self._claim_check is not None and corrections is not None:
            # A corrected claim the check blocks is refused here (ClaimBlocked), unsent.
            self._claim_check.gate(self._case_state(task_id), corrections, self._today(), actor)
        change = await self._act(
            actor,
            "task.complete",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.complete_task,
                CompleteTask(actor=actor, task_id=task_id, payload=payload),
                id=update_id,
            ),
            type=payload.type,
        )
        # Work done on the day a follow-up date brought the case back closes that follow-up.
        self._follow_ups.clear_reached(change.case_id, actor)
        # Its read ends here, not when the request's session closes: that close would then run
        # in a worker thread after the answer (app.deps.get_session), beside the next request.
        release_connection(self._session)
        return change

    def check_corrected_claim(
        self, task_id: str, corrections: ClaimCorrections
    ) -> ClaimCheckResult | None:
        """What the check before sending finds on the claim these corrections build (nothing
        counted, nothing sent); None without a check. Invalid while they cannot build one."""
        if self._claim_check is None:
            return None
        state, today = self._case_state(task_id), self._today()
        problem = self._claim_check.problem(state, corrections, today)
        if problem:
            raise Invalid(f"claim_corrections: {problem}")
        return self._claim_check.check(state, corrections, today)

    def _case_state(self, task_id: str) -> CaseState:
        case = self._session.get(CaseRow, self.get_task(task_id).case_id)
        if case is None:
            raise NotFound(f"no case for task {task_id}")
        return CaseState.model_validate(case.state)

    async def claim(self, task_id: str, actor: Actor) -> CaseChange:
        return await self._act(
            actor,
            "task.claim",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.claim_task, ClaimTask(actor=actor, task_id=task_id), id=update_id
            ),
        )

    async def release(self, task_id: str, actor: Actor) -> CaseChange:
        return await self._act(
            actor,
            "task.release",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.release_task,
                ReleaseTask(actor=actor, task_id=task_id),
                id=update_id,
            ),
        )

    def _target_role(self, assignee: str | None, queue: Role | None) -> Role:
        """The queue a reassigned task joins: the assignee's role, or the queue named."""
        if assignee is not None:
            user = self._session.get(UserRow, assignee)
            if user is None or not user.active:
                raise Invalid(f"assignee: no active user '{assignee}'")
            role = Role(user.role)
            if not allows(role, Permission.WORK_TASKS):
                raise Invalid(
                    f"assignee: '{assignee}' is a {role.value}, not a biller or supervisor"
                )
            return role
        if queue is not None:
            return queue
        raise Invalid("give an assignee or a queue")

    async def reassign(
        self,
        task_id: str,
        actor: Actor,
        *,
        assignee: str | None,
        queue: Role | None,
        reason: str,
        override_absence: bool = False,
    ) -> CaseChange:
        """Reassign to a user (their role decides the queue) or to a queue, unassigned. A user
        out of office is refused unless `override_absence` (services.supervision)."""
        role = self._target_role(assignee, queue)
        try:
            overridden = refuse_if_away(self._session, assignee, override=override_absence)
        except OutOfOffice as exc:
            self._audit.record(
                actor, "task.reassign", Outcome.REFUSED, task_id=task_id, reason=exc.message
            )
            raise
        return await self._act(
            actor,
            "task.reassign",
            task_id,
            lambda h, update_id: h.execute_update(
                DenialCaseWorkflow.reassign_task,
                ReassignTask(
                    actor=actor,
                    task_id=task_id,
                    assignee=assignee,
                    assignee_role=role,
                    reason=reason,
                ),
                id=update_id,
            ),
            to=assignee or role.value,
            **({"away_override": True} if overridden else {}),
        )

    async def bulk_reassign(
        self,
        task_ids: list[str],
        actor: Actor,
        *,
        assignee: str | None,
        queue: Role | None,
        reason: str,
        override_absence: bool = False,
    ) -> list[BulkOutcome]:
        """Reassign many tasks at once; each succeeds or fails on its own (a task completed
        meanwhile is reported, the others still move)."""
        self._target_role(assignee, queue)  # a bad target fails the whole request up front
        # ... and so does an assignee out of office, unless overridden
        refuse_if_away(self._session, assignee, override=override_absence)
        outcomes = []
        for task_id in dict.fromkeys(task_ids):
            try:
                await self.reassign(
                    task_id,
                    actor,
                    assignee=assignee,
                    queue=queue,
                    reason=reason,
                    override_absence=override_absence,
                )
                outcomes.append(BulkOutcome(task_id=task_id, ok=True, status_code=200))
            except ServiceError as exc:
                outcomes.append(
                    BulkOutcome(
                        task_id=task_id, ok=False, status_code=exc.status_code, detail=exc.message
                    )
                )
        return outcomes
