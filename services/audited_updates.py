"""One change sent to a case's workflow as an Update, and audited however it ends: every
service that changes a case goes through here, so the audit trail reads the same for all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlmodel import Session
from temporalio.client import Client, WorkflowHandle

from db.models import Outcome
from domain.case import Actor
from services.audit import AuditService
from services.errors import NoAnswer, ServiceError
from services.stopped_cases import case_errors
from services.temporal_calls import new_update_id, release_connection
from workflows.case_workflow import DenialCaseWorkflow

T = TypeVar("T")
Change = Callable[[WorkflowHandle[DenialCaseWorkflow, object], str], Awaitable[T]]


class AuditedUpdates:
    """Sends one change to a case's workflow as an Update, on the services' session and
    client, and audits it however it ends."""

    def __init__(self, session: Session, client: Client, audit: AuditService) -> None:
        self._session = session
        self._client = client
        self._audit = audit

    async def send(
        self,
        actor: Actor,
        action: str,
        case_id: str,
        change: Change[T],
        *,
        task_id: str | None = None,
        sent: Callable[[], bool] = lambda: True,
        **detail: object,
    ) -> T:
        """Send `change` to the case's workflow as the Update id it is given, and audit it:
        applied (with the Update id), refused, failed, or unknown when it went unanswered
        after `sent` said it left (before that nothing can apply: failed). The session's
        connection is given back while the workflow answers."""
        audit = self._audit
        handle = self._client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
        update_id = new_update_id()
        release_connection(self._session)
        try:
            async with case_errors(self._session, self._client, case_id):
                result = await change(handle, update_id)
        except NoAnswer as exc:
            if sent():
                audit.record_unanswered(
                    actor,
                    action,
                    update_id,
                    case_id=case_id,
                    task_id=task_id,
                    reason=exc.message,
                    **detail,
                )
            else:
                audit.record(
                    actor,
                    action,
                    Outcome.FAILED,
                    case_id=case_id,
                    task_id=task_id,
                    reason=exc.message,
                    **detail,
                )
            raise
        except ServiceError as exc:
            outcome = Outcome.FAILED if exc.status_code >= 500 else Outcome.REFUSED
            audit.record(
                actor,
                action,
                outcome,
                case_id=case_id,
                task_id=task_id,
                reason=exc.message,
                **detail,
            )
            raise
        audit.record(actor, action, case_id=case_id, task_id=task_id, update_id=update_id, **detail)
        return result
