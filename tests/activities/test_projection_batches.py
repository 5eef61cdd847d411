"""The worker's group commit of projections: projections waiting together are written in one
transaction, each activity returns once its own is stored, and a case whose write fails fails
alone."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import event as sql_event
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

import activities.projection as projection
from activities.projection import GroupCommit
from db.models import CaseEventRow, CaseRow, TaskRow
from domain.case import CaseEvent, CaseState
from tests.db.test_projection import root_cause_v4
from workflows.messages import ProjectionRequest


def project_together(writer: GroupCommit, case_ids: list[str]) -> dict[str, BaseException | None]:
    """Each case projected by a thread of its own, all released at once; what each raised."""
    outcome: dict[str, BaseException | None] = {}
    start = threading.Barrier(len(case_ids))

    def project(case_id: str) -> None:
        state = root_cause_v4(case_id)
        start.wait()
        try:
            writer.write(ProjectionRequest(state=state, new_events=state.pending_events))
            outcome[case_id] = None
        except Exception as error:
            outcome[case_id] = error

    threads = [threading.Thread(target=project, args=(case_id,)) for case_id in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


def stored(engine: Engine, case_id: str) -> tuple[int | None, int, int]:
    """The case row's version, its task rows and its event rows."""
    with Session(engine) as session:
        row = session.get(CaseRow, case_id)
        tasks = session.exec(
            select(func.count()).select_from(TaskRow).where(TaskRow.case_id == case_id)
        ).one()
        events = session.exec(
            select(func.count()).select_from(CaseEventRow).where(CaseEventRow.case_id == case_id)
        ).one()
        return (row.version if row else None, tasks, events)


def test_projections_waiting_together_share_a_transaction(engine: Engine) -> None:
    commits: list[int] = []
    listener: Callable[[object], None] = lambda _connection: commits.append(1)  # noqa: E731
    sql_event.listen(engine, "commit", listener)
    try:
        case_ids = [f"batch-{n}" for n in range(40)]
        outcome = project_together(GroupCommit(engine), case_ids)
    finally:
        sql_event.remove(engine, "commit", listener)
    assert outcome == dict.fromkeys(case_ids)
    assert all(stored(engine, case_id) == (4, 2, 4) for case_id in case_ids)
    assert len(commits) < len(case_ids)


def test_a_failing_case_fails_alone(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    write = projection.write_case_projections

    def refuse_one(session: Session, items: Sequence[tuple[CaseState, list[CaseEvent]]]) -> None:
        if any(state.case_id == "alone-bad" for state, _ in items):
            raise RuntimeError("this case's write fails")
        write(session, items)

    monkeypatch.setattr(projection, "write_case_projections", refuse_one)
    case_ids = ["alone-bad", *(f"alone-{n}" for n in range(20))]
    outcome = project_together(GroupCommit(engine), case_ids)
    assert isinstance(outcome.pop("alone-bad"), RuntimeError)
    assert outcome == dict.fromkeys(case_ids[1:])
    assert stored(engine, "alone-bad") == (None, 0, 0)
    assert all(stored(engine, case_id) == (4, 2, 4) for case_id in case_ids[1:])
