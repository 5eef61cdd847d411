"""Project a case into the SQL read model (versioned, so retries never roll it back).

Projections waiting at the same moment are written together, in one transaction (a group
commit): on the ingest of a large file the worker projects hundreds of cases a second, and one
transaction per case spent most of its time in the commit and in per-statement overhead. An
activity still returns only once its own projection is committed, so nothing is acknowledged
that is not stored; a batch that fails is written again case by case, so one case's failure
fails only its own activity (retried by its workflow as before).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from temporalio import activity

from db.engine import session_scope
from db.models import CaseRow
from db.projection import write_case_projections
from domain.case import CaseState, CaseStatus
from workflows.messages import ProjectionRequest

# At most this many cases in one transaction: a batch's locks and its rollback stay small.
BATCH_LIMIT = 64


@dataclass
class _Waiting:
    request: ProjectionRequest
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this thread is to write the next batch
    error: BaseException | None = None


class GroupCommit:
    """Writes the projections handed to it by concurrent activity threads, the ones waiting
    together in one transaction; one thread writes at a time, the others wait for their turn
    or for their batch to be written."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False

    def write(self, request: ProjectionRequest) -> None:
        mine = _Waiting(request)
        with self._lock:
            self._queue.append(mine)
            mine.lead = not self._writing
            self._writing = True
        while not mine.lead:
            mine.done.wait()
            if mine.lead:  # handed the next batch, its own projection among them
                break
            if mine.error is not None:
                raise mine.error
            return
        self._write_next_batch()
        if mine.error is not None:
            raise mine.error

    def _write_next_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:BATCH_LIMIT], self._queue[BATCH_LIMIT:]
        try:
            self._write(batch)
        except BaseException as error:  # stopped mid-write: nobody in the batch is stored
            for waiting in batch:
                waiting.error = waiting.error or error
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._writing = following is not None
            if following is not None:
                following.lead = True
                following.done.set()
            for waiting in batch:
                waiting.lead = False
                waiting.done.set()

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            with session_scope(self._engine) as session:
                write_case_projections(
                    session, [(w.request.state, w.request.new_events) for w in batch]
                )
        except Exception as batch_error:
            if len(batch) == 1:
                batch[0].error = batch_error
                return
            for waiting in batch:  # each alone: one case's failure stays its own
                try:
                    with session_scope(self._engine) as session:
                        write_case_projections(
                            session, [(waiting.request.state, waiting.request.new_events)]
                        )
                except Exception as error:
                    waiting.error = error


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = GroupCommit(engine)

    @activity.defn(name="project_case")
    def project_case(self, request: ProjectionRequest) -> None:
        self._writer.write(request)

    @activity.defn(name="closed_case_state")
    def closed_case_state(self, case_id: str) -> CaseState | None:
        """The closed case as its last run projected it: a run recording a late payment starts
        from it, not from what its caller read (another late payment may have come between)."""
        with session_scope(self._engine) as session:
            row = session.get(CaseRow, case_id)
            if row is None or row.status != CaseStatus.CLOSED:
                return None
            return CaseState.model_validate(row.state)
