"""Sign-in throttling on the database (services.auth.sign_in with SignInThrottle): lockouts
per account and per address, their expiry on an injected clock, the reset on success, and the
audit trail of every refusal and lockout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuditEventRow
from domain.sign_in import ThrottleRule
from services.audit import AuditService
from services.auth import AuthService, SessionKind, SignInThrottle, TooManyAttempts, sign_in
from services.users import UserService

RULE = ThrottleRule(
    account_limit=3, address_limit=5, window=timedelta(minutes=15), lockout=timedelta(minutes=10)
)
HERE = "10.0.0.1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def session(sqlite_engine: Engine) -> Iterator[Session]:
    with Session(sqlite_engine, expire_on_commit=False) as session:
        UserService(session).ensure_demo_users()
        yield session


def attempt(
    session: Session, clock: Clock, user_id: str, password: str, address: str = HERE
) -> str:
    """ok, wrong, or locked:<seconds>."""
    auth = AuthService(session, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    try:
        user = sign_in(
            auth,
            SignInThrottle(session, RULE, clock),
            AuditService(session, address),
            user_id=user_id,
            password=password,
            address=address,
            kind=SessionKind.BEARER,
        )
    except TooManyAttempts as exc:
        return f"locked:{exc.retry_after}"
    return "wrong" if user is None else "ok"


def audit(session: Session) -> list[tuple[str, str, str, dict[str, Any]]]:
    rows = session.exec(select(AuditEventRow).order_by(col(AuditEventRow.id)))
    return [(r.user_id, r.action, r.outcome, r.detail) for r in rows]


def test_the_right_password_is_refused_once_the_account_is_locked(
    session: Session, clock: Clock
) -> None:
    assert [attempt(session, clock, "alice", "guess") for _ in range(3)] == ["wrong"] * 3
    clock.now += timedelta(seconds=30)
    assert attempt(session, clock, "alice", "demo") == f"locked:{10 * 60 - 30}"
    assert audit(session)[-2:] == [
        (
            "alice",
            "auth.lockout",
            "refused",
            {"kind": "bearer", "scope": "account", "retry_after": 600},
        ),
        (
            "alice",
            "auth.login",
            "refused",
            {"kind": "bearer", "throttled": "account", "retry_after": 570},
        ),
    ]
    assert all("demo" not in str(row) and "guess" not in str(row) for row in audit(session))


def test_the_lockout_ends_after_its_time(session: Session, clock: Clock) -> None:
    for _ in range(3):
        attempt(session, clock, "alice", "guess")
    clock.now += timedelta(minutes=10) - timedelta(seconds=1)
    assert attempt(session, clock, "alice", "demo") == "locked:1"
    clock.now += timedelta(seconds=1)
    assert attempt(session, clock, "alice", "demo") == "ok"


def test_success_resets_the_accounts_count(session: Session, clock: Clock) -> None:
    """Two failures, a success, two more failures: never three in a row, never locked."""
    assert attempt(session, clock, "alice", "guess") == "wrong"
    assert attempt(session, clock, "alice", "guess") == "wrong"
    assert attempt(session, clock, "alice", "demo") == "ok"
    assert attempt(session, clock, "alice", "guess") == "wrong"
    assert attempt(session, clock, "alice", "guess") == "wrong"
    assert attempt(session, clock, "alice", "demo") == "ok"


def test_an_address_guessing_across_accounts_is_locked_out(session: Session, clock: Clock) -> None:
    """Five failures from one address over five accounts (none reaching its own limit) lock
    the address: even bob's right password is refused from there, not from elsewhere. A
    success does not clear the address's count."""
    for user_id in ("alice", "sam", "ada", "drew"):
        assert attempt(session, clock, user_id, "guess") == "wrong"
    assert attempt(session, clock, "bob", "demo") == "ok"
    assert attempt(session, clock, "nobody-here", "guess") == "wrong"
    assert attempt(session, clock, "bob", "demo") == "locked:600"
    assert attempt(session, clock, "bob", "demo", address="10.0.0.2") == "ok"
    lockouts = [row for row in audit(session) if row[1] == "auth.lockout"]
    assert lockouts == [
        (
            "nobody-here",
            "auth.lockout",
            "refused",
            {"kind": "bearer", "scope": "address", "retry_after": 600},
        )
    ]


def test_unknown_user_ids_are_locked_like_real_ones(session: Session, clock: Clock) -> None:
    """Whether an account exists is not told by the lockout either."""
    for _ in range(3):
        assert attempt(session, clock, "nobody-here", "guess") == "wrong"
    assert attempt(session, clock, "nobody-here", "guess") == "locked:600"


def test_guesses_made_at_the_same_moment_are_all_counted(
    sqlite_engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty wrong passwords sent at once from many threads (each its own request and
    session): no more than the account's limit are checked against the password, and the
    right one sent in the same burst is refused too."""
    with Session(sqlite_engine) as setup:
        UserService(setup).ensure_demo_users()
    checked: list[str] = []
    real = AuthService.authenticate

    def counting(self: AuthService, user_id: str, password: str) -> Any:
        checked.append(password)
        time.sleep(0.05)  # the slow hash: the others arrive meanwhile
        return real(self, user_id, password)

    monkeypatch.setattr(AuthService, "authenticate", counting)

    def one(password: str) -> str:
        with Session(sqlite_engine, expire_on_commit=False) as own:
            return attempt(own, clock, "alice", password, address=f"10.0.1.{len(password)}")

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(one, ["guess"] * 20 + ["demo"]))
    assert len(checked) <= RULE.account_limit
    assert outcomes[-1].startswith("locked")


def test_an_ipv6_client_cannot_escape_the_address_limit_by_changing_address(
    session: Session, clock: Clock
) -> None:
    """Each guess from another address of the same /64, against another account each time."""
    outcomes = [
        attempt(session, clock, f"nobody{n}", "wrong", address=f"2001:db8:7:9::{n + 1:x}")
        for n in range(RULE.address_limit + 1)
    ]
    assert outcomes[: RULE.address_limit] == ["wrong"] * RULE.address_limit
    assert outcomes[-1].startswith("locked:")
    # Another /64 is another client.
    assert attempt(session, clock, "alice", "demo", address="2001:db8:7:a::1") == "ok"
