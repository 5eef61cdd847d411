"""What happens when things fail, on a real dev server with real worker processes:

- the worker is SIGKILLed again and again while cases are mid-flight: every case finishes,
  and nothing is recorded twice (tasks, timeline events, prevention items);
- the dev server restarts on the same SQLite file: cases resume, and timers set before the
  restart fire after it.

(Temporal unreachable from the API or an ingest: tests/api/test_cases_api.py and
tests/services/test_ingest.py.)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.models import AbsenceRow, PreventionTaskRow
from domain.case import CaseStatus
from domain.models import DenialRecord
from services.absences import AbsenceIn, AbsenceService
from services.audit import AuditService
from testkit.records import adj, make_record
from tests.e2e.reliability import (
    DENIALS,
    Deployment,
    assert_recorded_once,
    paid,
    retrying,
    start_case,
    to_awaiting_payer,
    wait_status,
)
from tests.harness import SAM, CaseHandle
from workflows.absence_workflow import AbsenceWorkflow
from workflows.case_workflow import DenialCaseWorkflow

CASES = 8
KILLS = 3
# The absence starts this many seconds after it is set: time enough to stop the server first.
START_IN = 8


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path)
    try:
        yield deployment
    finally:
        deployment.stop()


def records(count: int) -> list[DenialRecord]:
    today = datetime.now(UTC).date()
    return [make_record(today, billed=900, adjustments=[adj("CO-197", 900)]) for _ in range(count)]


async def test_cases_survive_a_worker_killed_mid_flight(deployment: Deployment) -> None:
    client = await deployment.start_server()
    deployment.start_worker()
    today = datetime.now(UTC).date()
    handles = [await start_case(client, deployment.task_queue, r) for r in records(CASES)]

    driven: set[str] = set()

    async def drive(handle: CaseHandle) -> None:
        await to_awaiting_payer(handle, today)
        await paid(handle, today)
        driven.add(handle.id)

    async def killer() -> None:
        for _ in range(KILLS):
            await asyncio.sleep(1.5)
            assert len(driven) < CASES, "every case was through before this kill"
            deployment.kill_worker()
            deployment.start_worker()

    await asyncio.gather(killer(), *(drive(h) for h in handles))
    assert deployment.worker_starts == KILLS + 1

    for handle in handles:
        result = await asyncio.wait_for(handle.result(), 90)
        assert result.recovered_amount == Decimal(900)
        state = await wait_status(handle, CaseStatus.CLOSED)
        assert_recorded_once(deployment.engine, state)
    # The first cases are one-offs and the later ones (once the read model shows the payer +
    # CARC recurring) a pattern: one or two items, which together count every case once.
    with Session(deployment.engine) as session:
        items = session.exec(select(PreventionTaskRow)).all()
    assert sum(item.case_count for item in items) == CASES
    assert sum(item.dollars_at_stake for item in items) == Decimal(900) * CASES


async def test_server_restart_resumes_cases_and_fires_pending_timers(
    deployment: Deployment,
) -> None:
    client = await deployment.start_server()
    deployment.start_worker()
    # The one-shot setup step of a cluster, against this server (idempotent).
    setup = await asyncio.create_subprocess_exec(
        DENIALS,
        "search-attributes",
        env={**os.environ, "TEMPORAL_ADDRESS": deployment.server.address},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(setup.communicate(), 60)
    assert setup.returncode == 0, output.decode()
    today = datetime.now(UTC).date()
    handles = [await start_case(client, deployment.task_queue, r) for r in records(3)]
    for handle in handles:
        await to_awaiting_payer(handle, today)

    # An out-of-office period whose start and end are timers a few seconds away.
    now = datetime.now(UTC)
    with Session(deployment.engine, expire_on_commit=False) as session:
        absences = AbsenceService(session, client, deployment.task_queue, AuditService(session))
        absence = await absences.mark_away(
            "alice",
            AbsenceIn(
                starts_at=now + timedelta(seconds=START_IN),
                ends_at=now + timedelta(seconds=START_IN + 3),
                return_tasks=True,
            ),
            SAM,
        )
    deployment.server.stop()  # before either timer fires
    assert datetime.now(UTC) < now + timedelta(seconds=START_IN)
    await asyncio.sleep(1)
    client = await deployment.start_server()

    absence_handle = client.get_workflow_handle_for(
        AbsenceWorkflow.run, f"absence-{absence.absence_id}"
    )
    assert await asyncio.wait_for(retrying(absence_handle.result), 60) == "ended"
    with Session(deployment.engine) as session:
        row = session.get(AbsenceRow, absence.absence_id)
        assert row is not None and row.status == "ended"

    for handle in handles:
        resumed = client.get_workflow_handle_for(DenialCaseWorkflow.run, handle.id)
        await paid(resumed, today)
        # The prevention item is emitted after the case closes: wait for the run to end.
        await asyncio.wait_for(resumed.result(), 60)
        state = await wait_status(resumed, CaseStatus.CLOSED)
        assert_recorded_once(deployment.engine, state)
