"""Who works a task: claiming, releasing, reassigning, and handing back a leaving user's work."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.case import CaseStatus, Role
    from domain.permissions import Permission, allows
    from workflows.messages import CaseChange, ClaimTask, ReassignTask, ReleaseTask, ReturnUserWork
    from workflows.refusals import Refusal, refuse
from workflows.case_core import CaseCore


class CaseTaskClaims(CaseCore):
    """claim_task, release_task, reassign_task and return_user_work."""

    @workflow.update
    async def claim_task(self, request: ClaimTask) -> CaseChange:
        since = self._state.event_seq
        self._validate_claim_task(request)  # state may have moved since validation
        task = self._open_task_for(request.actor, request.task_id)
        task.assignee = request.actor.user_id
        task.placement_before_urgent = None  # someone took it up: it stays where it is now
        task.last_touched_at = workflow.now()
        task.stalled = False
        if request.actor.role is Role.BILLER and self._state.owner is None:
            self._state.owner = request.actor.user_id
        self._event(
            "task_claimed",
            f"Task {task.type.value} claimed by {request.actor.user_id}",
            actor=request.actor.user_id,
            data={"task_id": task.task_id},
        )
        return await self._after_change(since)

    @claim_task.validator
    def _validate_claim_task(self, request: ClaimTask) -> None:
        task = self._open_task_for(request.actor, request.task_id)
        if task.assignee == request.actor.user_id:
            refuse(Refusal.CONFLICT, f"task {task.task_id} is already yours")
        if task.assignee is not None:
            refuse(Refusal.CONFLICT, f"task {task.task_id} is already claimed by {task.assignee}")
        if not allows(request.actor.role, Permission.WORK_ANY_TASK) and (
            task.queue is not request.actor.role
        ):
            refuse(Refusal.FORBIDDEN, f"task {task.task_id} is in the {task.queue.value} queue")

    @workflow.update
    async def release_task(self, request: ReleaseTask) -> CaseChange:
        since = self._state.event_seq
        self._validate_release_task(request)  # state may have moved since validation
        task = self._open_task_for(request.actor, request.task_id)
        previous = task.assignee
        task.assignee = None
        task.placement_before_urgent = None
        task.last_touched_at = workflow.now()
        if self._state.owner == previous:
            self._state.owner = None
        self._event(
            "task_released",
            f"Task {task.type.value} released to the {task.queue.value} queue",
            actor=request.actor.user_id,
            data={"task_id": task.task_id},
        )
        return await self._after_change(since)

    @release_task.validator
    def _validate_release_task(self, request: ReleaseTask) -> None:
        task = self._open_task_for(request.actor, request.task_id)
        if task.assignee is None:
            refuse(Refusal.CONFLICT, f"task {task.task_id} is not assigned")
        if not allows(request.actor.role, Permission.WORK_ANY_TASK) and (
            task.assignee != request.actor.user_id
        ):
            refuse(Refusal.FORBIDDEN, f"task {task.task_id} is assigned to {task.assignee}")

    @workflow.update
    async def reassign_task(self, request: ReassignTask) -> CaseChange:
        since = self._state.event_seq
        self._validate_reassign_task(request)  # state may have moved since validation
        task = self._open_task_for(request.actor, request.task_id)
        previous = task.assignee or f"{task.queue.value} queue"
        task.assignee = request.assignee
        task.queue = request.assignee_role
        task.placement_before_urgent = None
        task.last_touched_at = workflow.now()
        task.stalled = False
        if request.assignee and request.assignee_role is Role.BILLER:
            self._state.owner = request.assignee
        target = request.assignee or f"{request.assignee_role.value} queue"
        self._event(
            "task_reassigned",
            f"Task {task.type.value} reassigned from {previous} to {target}"
            f"{': ' + request.reason if request.reason else ''}",
            actor=request.actor.user_id,
            data={"task_id": task.task_id, "from": previous, "to": target},
        )
        return await self._after_change(since)

    @reassign_task.validator
    def _validate_reassign_task(self, request: ReassignTask) -> None:
        self._require_supervisor(request.actor, "reassign tasks")
        task = self._open_task_for(request.actor, request.task_id)
        if not allows(request.assignee_role, Permission.WORK_TASKS):
            refuse(
                Refusal.INVALID,
                f"tasks go to billers or supervisors, not {request.assignee_role.value}",
            )
        if request.assignee is not None and request.assignee == task.assignee:
            refuse(Refusal.CONFLICT, f"task {task.task_id} is already assigned to {task.assignee}")
        if (
            request.assignee is None
            and task.assignee is None
            and task.queue is request.assignee_role
        ):
            refuse(
                Refusal.CONFLICT,
                f"task {task.task_id} is already in the {task.queue.value} queue, unassigned",
            )

    @workflow.update
    async def return_user_work(self, request: ReturnUserWork) -> CaseChange:
        since = self._state.event_seq
        self._validate_return_user_work(request)  # state may have moved since validation
        state = self._state
        user = request.user_id
        for task in state.open_tasks:
            placement = task.placement_before_urgent
            if placement is not None and placement.assignee == user:
                task.placement_before_urgent = placement.model_copy(update={"assignee": None})
            if task.assignee == user:
                task.assignee = None
                self._event(
                    "task_returned",
                    f"Task {task.type.value} returned to the {task.queue.value} queue: "
                    f"{request.reason}",
                    actor=request.actor.user_id,
                    data={"task_id": task.task_id, "from": user},
                )
        if state.owner == user:
            state.owner = None
            self._event(
                "owner_cleared",
                f"{user} no longer owns the case; its new tasks go to the queue: {request.reason}",
                actor=request.actor.user_id,
                data={"from": user},
            )
        return await self._after_change(since)

    @return_user_work.validator
    def _validate_return_user_work(self, request: ReturnUserWork) -> None:
        role = request.actor.role
        if not (allows(role, Permission.MANAGE_USERS) or allows(role, Permission.SUPERVISE)):
            refuse(Refusal.FORBIDDEN, f"role '{role.value}' cannot hand back a user's work")
        if self._state.status is CaseStatus.CLOSED:
            refuse(Refusal.CONFLICT, "case is closed")
