"""Stopped case workflows in the read model, on SQLite and PostgreSQL: a stop is recorded once
whoever notices it, never for a closed case, cleared once, and a run cleared (restarted) is
never recorded again while a later stop of the case is."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.engine import session_scope
from db.projection import write_case_projection
from db.workflow_stops import (
    StopFound,
    clear_stop,
    count_open_stops,
    get_mark,
    open_stop,
    open_stops,
    record_stop,
    set_mark,
    stopped_among,
)
from domain.case import CasePolicy, CaseState, CaseStatus
from domain.workflow_stops import DetectedBy, StopStatus
from testkit.records import make_record

T0 = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def a_case(engine: Engine, status: CaseStatus = CaseStatus.TRIAGED) -> str:
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    state = CaseState(
        case_id=case_id,
        record=make_record(date(2026, 12, 1)),
        policy=CasePolicy(),
        status=status,
        version=3,
        created_at=T0,
        updated_at=T0,
    )
    with session_scope(engine) as session:
        write_case_projection(session, state, [])
    return case_id


def terminated(case_id: str, run_id: str | None = "run-1") -> StopFound:
    return StopFound(case_id, run_id, StopStatus.TERMINATED, T0, "temporal-cli:ops@host")


def test_a_stop_is_recorded_once_whoever_notices_it(engine: Engine) -> None:
    case_id = a_case(engine)
    with Session(engine) as session:
        first = record_stop(session, terminated(case_id), DetectedBy.SWEEP, T0)
        assert first is not None
        assert (first.status, first.run_id, first.case_version, first.detected_by) == (
            "terminated",
            "run-1",
            3,
            "sweep",
        )
        assert first.stopped_at == T0 and first.stopped_by == "temporal-cli:ops@host"
        # A request noticing the same run, or another run of it, finds the open stop.
        assert record_stop(session, terminated(case_id), DetectedBy.ACTION, T0) is None
        assert record_stop(session, terminated(case_id, "run-2"), DetectedBy.ACTION, T0) is None
        assert open_stop(session, case_id) == first
        assert stopped_among(session, [case_id, "case-other"]) == {case_id}
        assert case_id in [stop.case_id for stop, _ in open_stops(session)]


def test_a_closed_case_is_never_recorded_as_stopped(engine: Engine) -> None:
    case_id = a_case(engine, CaseStatus.CLOSED)
    with Session(engine) as session:
        assert record_stop(session, terminated(case_id), DetectedBy.SWEEP, T0) is None
        assert record_stop(session, terminated("case-unknown"), DetectedBy.SWEEP, T0) is None
        assert open_stop(session, case_id) is None


def test_a_cleared_run_stays_cleared_and_a_later_stop_is_recorded(engine: Engine) -> None:
    case_id = a_case(engine)
    later = T0 + timedelta(hours=1)
    with Session(engine) as session:
        record_stop(session, terminated(case_id), DetectedBy.SWEEP, T0)
        cleared = clear_stop(session, case_id, "sam", later, "run-2")
        assert cleared is not None and cleared.run_id == "run-1"
        assert clear_stop(session, case_id, "temporal", later, "run-2") is None  # once
        assert open_stop(session, case_id) is None
        # A sweep that described run-1 before the restart writes late: nothing comes back.
        assert record_stop(session, terminated(case_id), DetectedBy.SWEEP, later) is None
        # The restarted run stopping in turn is a new stop; so is a workflow gone, each time.
        assert record_stop(session, terminated(case_id, "run-2"), DetectedBy.SWEEP, later)
        clear_stop(session, case_id, "sam", later, "run-3")
        gone = StopFound(case_id, None, StopStatus.MISSING, None)
        assert record_stop(session, gone, DetectedBy.ACTION, later) is not None
        clear_stop(session, case_id, "sam", later, "run-4")
        assert record_stop(session, gone, DetectedBy.ACTION, later) is not None


def test_open_stops_are_counted_per_status(engine: Engine) -> None:
    before = _counts(engine)
    failed = a_case(engine)
    with Session(engine) as session:
        record_stop(session, terminated(a_case(engine)), DetectedBy.SWEEP, T0)
        found = StopFound(failed, "run-9", StopStatus.FAILED, T0)
        record_stop(session, found, DetectedBy.SWEEP, T0)
    after = _counts(engine)
    assert after.get("terminated", 0) == before.get("terminated", 0) + 1
    assert after.get("failed", 0) == before.get("failed", 0) + 1


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return count_open_stops(session)


def test_a_sweep_mark_is_set_and_moved(engine: Engine) -> None:
    name = f"test.{uuid.uuid4().hex[:8]}"
    with Session(engine) as session:
        assert get_mark(session, name) is None
        set_mark(session, name, T0)
        set_mark(session, name, T0 + timedelta(minutes=1))
    with Session(engine) as session:
        assert get_mark(session, name) == T0 + timedelta(minutes=1)
