"""The sweep for cases whose workflow was stopped outside the product.

Each sweep lists, from Temporal's visibility, the case workflow runs that stopped (terminated,
failed, timed out, cancelled) since the previous sweep's mark, and records those whose case
the read model still shows open; it clears the stops whose workflow runs again; hourly it also
compares every open case with the running workflows, which finds a workflow that is gone.
Several workers may run it (the schedule starts one at a time, and every write is idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.client import Client

from db.workflow_stops import (
    get_mark,
    open_case_ids,
    open_cases_without_stop,
    open_stop_case_ids,
    recorded_runs,
    set_mark,
)
from domain.workflow_stops import (
    DetectedBy,
    full_sweep_due,
    listable,
    next_closed_since,
    running_query,
    stopped_runs_query,
)
from services.stopped_cases import CASE_WORKFLOW, InThread, clear_if_running, notice_stop

CLOSED_SINCE = "stopped_cases.closed_since"
FULL_SWEEP = "stopped_cases.full_sweep"
CHUNK = 500  # case ids per IN (...) list of a read-model query
RUNNING_CHUNK = 100  # case ids per IN (...) list of a visibility query


class SweepReport(BaseModel):
    listed: int = 0  # stopped runs visibility listed since the mark
    recorded: int = 0  # stops recorded by this sweep
    cleared: int = 0  # stops whose workflow runs again
    full: bool = False  # the hourly comparison with the running workflows ran


def _chunks(ids: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    batch: list[str] = []
    for case_id in ids:
        batch.append(case_id)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class StoppedCaseActivities:
    def __init__(self, engine: Engine, client: Client) -> None:
        self._db = InThread(engine)
        self._client = client

    async def _stopped_since(self, since: datetime | None) -> dict[str, set[str]]:
        """Run ids per case of the runs that stopped since `since`."""
        runs: dict[str, set[str]] = {}
        async for execution in self._client.list_workflows(
            stopped_runs_query(CASE_WORKFLOW, since)
        ):
            activity.heartbeat()  # the SDK throttles these: one call per run listed is cheap
            runs.setdefault(execution.id, set()).add(execution.run_id)
        return runs

    async def _worth_a_look(self, runs: dict[str, set[str]]) -> list[str]:
        """Cases shown open with a stopped run not recorded yet."""
        wanted: list[str] = []
        for batch in _chunks(runs):
            opened = await self._db(lambda session, ids=batch: open_case_ids(session, ids))
            known = await self._db(lambda session, ids=batch: recorded_runs(session, ids))
            wanted += [
                case_id
                for case_id in batch
                if case_id in opened and any((case_id, run) not in known for run in runs[case_id])
            ]
        return wanted

    async def _record(self, case_ids: Iterable[str]) -> int:
        recorded = 0
        for case_id in case_ids:
            activity.heartbeat()
            noticed = await notice_stop(self._client, self._db, case_id, DetectedBy.SWEEP)
            if noticed is not None and noticed.new:
                recorded += 1
        return recorded

    async def _clear_running_again(self) -> int:
        """Clear the stops whose workflow runs again (reset or started in Temporal): visibility
        says which, a chunk at a time (a mass termination leaves thousands), and each is
        described before it is cleared."""
        cleared = 0
        stopped = await self._db(open_stop_case_ids)
        for batch in _chunks(filter(listable, stopped), RUNNING_CHUNK):
            activity.heartbeat()
            query = running_query(CASE_WORKFLOW, among=batch)
            async for execution in self._client.list_workflows(query):
                cleared += await clear_if_running(self._client, self._db, execution.id)
        for case_id in (c for c in stopped if not listable(c)):  # never made by the product
            cleared += await clear_if_running(self._client, self._db, case_id)
        return cleared

    async def _gone(self) -> list[str]:
        """Open cases, without a stop recorded, that no running workflow carries (visibility
        may lag: notice_stop describes each before recording anything)."""
        running: set[str] = set()
        async for execution in self._client.list_workflows(running_query(CASE_WORKFLOW)):
            activity.heartbeat()
            running.add(execution.id)
        return [c for c in await self._db(open_cases_without_stop) if c not in running]

    @activity.defn(name="sweep_stopped_cases")
    async def sweep(self) -> SweepReport:
        started = datetime.now(UTC)
        report = SweepReport()
        since = await self._db(lambda session: get_mark(session, CLOSED_SINCE))
        runs = await self._stopped_since(since)
        report.listed = sum(len(ids) for ids in runs.values())
        report.recorded = await self._record(await self._worth_a_look(runs))
        report.cleared = await self._clear_running_again()
        if full_sweep_due(await self._db(lambda session: get_mark(session, FULL_SWEEP)), started):
            report.recorded += await self._record(await self._gone())
            report.full = True
            await self._db(lambda session: set_mark(session, FULL_SWEEP, started))
        await self._db(lambda session: set_mark(session, CLOSED_SINCE, next_closed_since(started)))
        activity.logger.info(
            "stopped case sweep: %d stopped runs listed, %d stops recorded, %d cleared%s",
            report.listed,
            report.recorded,
            report.cleared,
            " (full)" if report.full else "",
        )
        return report
