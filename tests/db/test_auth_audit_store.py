"""Sessions and the audit trail are SQL: AuthService (passwords, open / resolve / close /
close_all_of, idle and hard expiry) and AuditService (record, search with each filter, count,
CSV export) on SQLite and PostgreSQL. The PostgreSQL database is shared by the whole run, so
every row here carries ids unique to the test."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuditEventRow, SessionRow, UserRow
from domain.case import Actor, Role
from services.audit import CSV_COLUMNS, AuditFilters, AuditService, Outcome
from services.auth import AuthService, SessionKind, hash_password

PASSWORD = "a long test password"
HOUR = timedelta(hours=1)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once


def add_user(session: Session, user_id: str, role: Role = Role.BILLER, active: bool = True) -> None:
    session.add(
        UserRow(
            user_id=user_id,
            display_name=f"User {user_id}",
            role=role.value,
            active=active,
            password_hash=password_hash(),
            created_at=datetime.now(UTC),
        )
    )
    session.commit()


def move(session: Session, token: str, **deltas: timedelta) -> None:
    row = session.get(SessionRow, hashlib.sha256(token.encode()).hexdigest())
    assert row is not None
    for name, delta in deltas.items():
        setattr(row, name, getattr(row, name) + delta)
    session.add(row)
    session.commit()


def session_rows(engine: Engine, user_id: str) -> list[SessionRow]:
    with Session(engine) as session:
        return list(session.exec(select(SessionRow).where(SessionRow.user_id == user_id)))


def test_auth_service_sessions(engine: Engine) -> None:
    """Passwords check out only for active users; a session is stored as its token's SHA-256,
    resolves only as its own kind, is touched when used after a minute, ends when idle too long
    or past its hard limit (and is then deleted), and close / close_all_of delete it."""
    tag = uuid.uuid4().hex[:8]
    erin, finn, gone = f"erin-{tag}", f"finn-{tag}", f"gone-{tag}"
    with Session(engine, expire_on_commit=False) as session:
        add_user(session, erin)
        add_user(session, finn, Role.SUPERVISOR)
        add_user(session, gone, active=False)
        auth = AuthService(session, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))

        user = auth.authenticate(erin, PASSWORD)
        assert user is not None and user.user_id == erin
        assert auth.authenticate(erin, "wrong password!") is None
        assert auth.authenticate(gone, PASSWORD) is None
        assert auth.authenticate(f"nobody-{tag}", PASSWORD) is None

        token, row = auth.open_session(user, SessionKind.BEARER)
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
        assert (row.user_id, row.kind) == (erin, "bearer")
        assert row.expires_at - row.created_at == timedelta(hours=12)
        signed_in = auth.resolve(token, SessionKind.BEARER)
        assert signed_in is not None
        assert signed_in.actor == Actor(user_id=erin, role=Role.BILLER)
        assert (signed_in.display_name, signed_in.kind) == (f"User {erin}", SessionKind.BEARER)
        assert signed_in.csrf_token == row.csrf_token and len(row.csrf_token) >= 24
        assert auth.resolve(token, SessionKind.COOKIE) is None
        assert auth.resolve("not-a-token", SessionKind.BEARER) is None

        # Used two minutes after the last use: still alive, and the use is written back.
        move(session, token, last_seen_at=-timedelta(minutes=2))
        before = datetime.now(UTC)
        assert auth.resolve(token, SessionKind.BEARER) is not None
        [stored] = session_rows(engine, erin)
        assert stored.last_seen_at >= before - timedelta(seconds=1)

        cookie, _ = auth.open_session(user, SessionKind.COOKIE)
        finn_user = auth.authenticate(finn, PASSWORD)
        assert finn_user is not None
        finn_token, _ = auth.open_session(finn_user, SessionKind.BEARER)
        assert len(session_rows(engine, erin)) == 2
        auth.close(token)
        assert auth.resolve(token, SessionKind.BEARER) is None
        assert [r.kind for r in session_rows(engine, erin)] == ["cookie"]
        auth.close_all_of(erin)
        assert session_rows(engine, erin) == []
        assert auth.resolve(cookie, SessionKind.COOKIE) is None
        resolved = auth.resolve(finn_token, SessionKind.BEARER)
        assert resolved is not None and resolved.actor.role is Role.SUPERVISOR

        # Deactivated: the session no longer signs anybody in.
        finn_row = session.get(UserRow, finn)
        assert finn_row is not None
        finn_row.active = False
        session.add(finn_row)
        session.commit()
        assert auth.resolve(finn_token, SessionKind.BEARER) is None


def test_auth_service_expiry(engine: Engine) -> None:
    """Idle longer than the limit, or past expires_at: resolve answers None and deletes the
    row; just inside the idle limit the session lives."""
    tag = uuid.uuid4().hex[:8]
    user_id = f"ivy-{tag}"
    with Session(engine, expire_on_commit=False) as session:
        add_user(session, user_id)
        user = session.get(UserRow, user_id)
        assert user is not None
        auth = AuthService(session, idle=timedelta(minutes=10), lifetime=HOUR)

        idle, _ = auth.open_session(user, SessionKind.COOKIE)
        move(session, idle, last_seen_at=-timedelta(minutes=9))
        assert auth.resolve(idle, SessionKind.COOKIE) is not None
        move(session, idle, last_seen_at=-timedelta(minutes=11))
        assert auth.resolve(idle, SessionKind.COOKIE) is None
        assert session_rows(engine, user_id) == []

        hard, _ = auth.open_session(user, SessionKind.BEARER)
        move(session, hard, expires_at=-HOUR - timedelta(seconds=1))
        assert auth.resolve(hard, SessionKind.BEARER) is None
        assert session_rows(engine, user_id) == []


def test_audit_service_record_search_count_csv(engine: Engine) -> None:
    """record writes one committed row (None details dropped, client IP kept); search filters
    by user, case, action, outcome, since / until and pages newest first; count agrees; the CSV
    export has every match oldest first with the detail as sorted key=value pairs."""
    tag = uuid.uuid4().hex[:8]
    alice = Actor(user_id=f"alice-{tag}", role=Role.BILLER)
    sam = Actor(user_id=f"sam-{tag}", role=Role.SUPERVISOR)
    case_a, case_b = f"case-a-{tag}", f"case-b-{tag}"
    with Session(engine, expire_on_commit=False) as session:
        audit = AuditService(session, "10.0.0.7")
        audit.record(alice, "case.view", case_id=case_a)
        audit.record(alice, "task.complete", case_id=case_a, task_id=f"{case_a}-t1", type="x")
        audit.record(sam, "case.view", case_id=case_b, shown=None)
        audit.record(sam, "task.reassign", Outcome.REFUSED, case_id=case_a, reason="no", to="bob")
        audit.record(alice, "case.note", Outcome.FAILED, case_id=case_b)
        ids = [
            row.id
            for row in session.exec(
                select(AuditEventRow)
                .where(col(AuditEventRow.user_id).in_([alice.user_id, sam.user_id]))
                .order_by(col(AuditEventRow.id))
            )
        ]
        assert len(ids) == 5
        # Fixed instants, far from anybody else's rows: one a day in January 2001.
        day = datetime(2001, 1, 1, 12, tzinfo=UTC)
        for n, event_id in enumerate(ids):
            row = session.get(AuditEventRow, event_id)
            assert row is not None
            row.at = day + timedelta(days=n)
            session.add(row)
        session.commit()

        def found(**filters: object) -> list[int]:
            chosen = AuditFilters.model_validate(filters)
            events = audit.search(chosen, full_detail=True)
            unpaged = audit.search(
                chosen.model_copy(update={"limit": 1000, "offset": 0}), full_detail=True
            )
            assert audit.count(chosen) == len(unpaged)  # count ignores the page
            return [ids.index(event.id) for event in events]

        in_2001 = {
            "since": datetime(2001, 1, 1, tzinfo=UTC),
            "until": datetime(2002, 1, 1, tzinfo=UTC),
        }
        assert found(**in_2001) == [4, 3, 2, 1, 0]  # newest first
        assert found(user_id=alice.user_id) == [4, 1, 0]
        assert found(user_id=sam.user_id) == [3, 2]
        assert found(case_id=case_a) == [3, 1, 0]
        assert found(case_id=case_b, user_id=sam.user_id) == [2]
        assert found(action="case.view", **in_2001) == [2, 0]
        assert found(outcome="refused", **in_2001) == [3]
        assert found(outcome="failed", **in_2001) == [4]
        assert found(outcome="ok", user_id=alice.user_id) == [1, 0]
        assert found(since=day + timedelta(days=3), until=datetime(2002, 1, 1, tzinfo=UTC)) == [
            4,
            3,
        ]
        assert found(until=day + timedelta(days=1), since=datetime(2001, 1, 1, tzinfo=UTC)) == [
            0
        ]  # until is exclusive
        assert found(limit=2, offset=1, **in_2001) == [3, 2]
        assert audit.count(AuditFilters.model_validate(in_2001)) == 5
        assert audit.count(AuditFilters(user_id=alice.user_id, outcome=Outcome.OK)) == 2
        assert audit.count(AuditFilters(case_id=f"none-{tag}")) == 0

        [viewed] = audit.search(
            AuditFilters(user_id=sam.user_id, action="case.view"), full_detail=True
        )
        assert (viewed.role, viewed.outcome, viewed.case_id, viewed.task_id) == (
            "supervisor",
            "ok",
            case_b,
            None,
        )
        assert viewed.detail == {}  # shown=None was dropped
        assert viewed.client_ip == "10.0.0.7"
        assert viewed.at == day + timedelta(days=2)

        text = "".join(audit.csv_lines(AuditFilters.model_validate(in_2001), full_detail=True))
        lines = list(csv.reader(io.StringIO(text)))
        assert tuple(lines[0]) == CSV_COLUMNS
        assert [line[3] for line in lines[1:]] == [
            "case.view",
            "task.complete",
            "case.view",
            "task.reassign",
            "case.note",
        ]  # oldest first, no paging
        assert lines[2] == [
            (day + timedelta(days=1)).isoformat(),
            alice.user_id,
            "biller",
            "task.complete",
            "ok",
            case_a,
            f"{case_a}-t1",
            "10.0.0.7",
            "type=x",
        ]
        assert lines[4][4] == "refused" and lines[4][8] == "reason=no;to=bob"
        only_sam = "".join(audit.csv_lines(AuditFilters(user_id=sam.user_id), full_detail=True))
        assert len(list(csv.reader(io.StringIO(only_sam)))) == 3  # header + 2
        empty = "".join(audit.csv_lines(AuditFilters(user_id=f"none-{tag}"), full_detail=True))
        assert list(csv.reader(io.StringIO(empty))) == [list(CSV_COLUMNS)]
