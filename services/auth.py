"""Passwords and sessions.

Passwords are hashed with Argon2 (argon2-cffi). A session is a random token: a bearer token for
API clients or an HttpOnly cookie for the web UI, stored only as its SHA-256, ending after a
period of inactivity or at a hard limit, and carrying the CSRF token its forms must echo.

Guessing is throttled (domain.sign_in): failed sign-ins are counted per user id and per client
address in the database, shared by every API process; past the limit, sign-in is refused with
the time to wait, even with the right password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, select

from db.models import SessionRow, SignInFailureRow, UserRow
from domain.case import Actor, Role
from domain.sign_in import ThrottleRule, lookback, retry_after, throttled_address
from services.audit import AuditService, Outcome
from services.errors import ServiceError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a password anybody has")
# Activity is written back at most this often: a worklist page should not be a write.
_TOUCH_EVERY = timedelta(seconds=60)


class SessionKind(StrEnum):
    BEARER = "bearer"
    COOKIE = "cookie"


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    display_name: str
    kind: SessionKind
    csrf_token: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# One statement by primary key, which every request runs: the session and its user. Built
# once: building it (and its cache key) took about half of the lookup's CPU.
_SESSION_AND_USER = (
    select(SessionRow, UserRow)
    .join(UserRow, col(UserRow.user_id) == col(SessionRow.user_id))
    .where(col(SessionRow.token_hash) == bindparam("token_hash"))
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(self, session: Session, idle: timedelta, lifetime: timedelta) -> None:
        self._session = session
        self._idle = idle
        self._lifetime = lifetime

    def authenticate(self, user_id: str, password: str) -> UserRow | None:
        """The active user with this password, else None (timing does not tell which)."""
        user = self._session.get(UserRow, user_id)
        stored = user.password_hash if user is not None and user.active else None
        try:
            _hasher.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or stored is None:
            return None
        if _hasher.check_needs_rehash(stored):
            user.password_hash = hash_password(password)
            self._session.add(user)
            self._session.commit()
        return user

    def open_session(self, user: UserRow, kind: SessionKind) -> tuple[str, SessionRow]:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        row = SessionRow(
            token_hash=_token_hash(token),
            user_id=user.user_id,
            kind=kind.value,
            csrf_token=secrets.token_urlsafe(24),
            created_at=now,
            last_seen_at=now,
            expires_at=now + self._lifetime,
        )
        self._session.add(row)
        self._session.commit()
        return token, row

    def resolve(self, token: str, kind: SessionKind) -> SignedIn | None:
        """The signed-in user behind a token, if its session is alive; touches it."""
        try:
            signed_in = self._resolve(token, kind)
        except BaseException:
            self._session.rollback()
            raise
        # Signing in is the first thing every request does: it must not keep a database
        # connection while the request goes on to wait for other work (see
        # services.temporal_calls.release_connection).
        self._session.commit()
        return signed_in

    def _resolve(self, token: str, kind: SessionKind) -> SignedIn | None:
        found = self._session.exec(
            _SESSION_AND_USER, params={"token_hash": _token_hash(token)}
        ).first()
        now = datetime.now(UTC)
        if found is None or found[0].kind != kind.value:
            return None
        row, user = found
        if now >= row.expires_at or now - row.last_seen_at > self._idle:
            self._session.delete(row)
            self._session.commit()
            return None
        if not user.active:
            return None
        # Touching on every request would be a write per request; a tenth of the idle limit
        # (at most a minute) keeps expiry accurate enough.
        if now - row.last_seen_at > min(_TOUCH_EVERY, self._idle / 10):
            row.last_seen_at = now
            self._session.add(row)
            self._session.commit()
        return SignedIn(
            actor=Actor(user_id=user.user_id, role=Role(user.role)),
            display_name=user.display_name,
            kind=kind,
            csrf_token=row.csrf_token,
        )

    def close(self, token: str) -> None:
        self._session.exec(
            delete(SessionRow).where(col(SessionRow.token_hash) == _token_hash(token))
        )  # type: ignore[call-overload]
        self._session.commit()

    def close_all_of(self, user_id: str) -> None:
        """Sign a user out everywhere (deactivated, or password changed)."""
        self._session.exec(delete(SessionRow).where(col(SessionRow.user_id) == user_id))  # type: ignore[call-overload]
        self._session.commit()


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)


class TooManyAttempts(ServiceError):
    """Signing in is refused for a while: too many failures for the account or the address.
    The message says neither which nor whether the account exists."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"too many failed sign-ins: try again in {minutes} minute{'s' if minutes > 1 else ''}"
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Lockout:
    scope: str  # account | address
    retry_after: int  # seconds


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SignInThrottle:
    """Failed sign-ins per user id and per client address (domain.sign_in.ThrottleRule)."""

    def __init__(
        self, session: Session, rule: ThrottleRule, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._session = session
        self._rule = rule
        self._clock = clock

    def lockout(self, user_id: str, address: str) -> Lockout | None:
        """The lockout in force for this user id or this address, if any (the longer one)."""
        address = throttled_address(address)
        now = self._clock()
        since = now - lookback(self._rule)
        found = []
        for scope, column, value, limit in (
            ("account", SignInFailureRow.user_id, user_id, self._rule.account_limit),
            ("address", SignInFailureRow.client_ip, address, self._rule.address_limit),
        ):
            failures = self._session.exec(
                select(SignInFailureRow.at).where(
                    col(column) == value, col(SignInFailureRow.at) > since
                )
            ).all()
            wait = retry_after(failures, limit, self._rule, now)
            if wait:
                found.append(Lockout(scope, wait))
        self._session.commit()  # end the read: hold no transaction open across a request
        return max(found, key=lambda lock: lock.retry_after, default=None)

    def begin(self, user_id: str, address: str) -> int | None:
        """Count an attempt as a failure before its password is checked, so that attempts
        made at the same moment (in any process) are all counted: the attempt's row id, or
        None when the attempts already counted leave no room for it (it is refused unchecked,
        and not counted: a refusal is no failure)."""
        address = throttled_address(address)
        now = self._clock()
        # Older failures count no more: pruning here keeps the table as small as the lookback.
        self._session.exec(
            delete(SignInFailureRow).where(col(SignInFailureRow.at) <= now - lookback(self._rule))
        )  # type: ignore[call-overload]
        attempt = SignInFailureRow(at=now, user_id=user_id, client_ip=address)
        self._session.add(attempt)
        self._session.commit()
        since = now - lookback(self._rule)
        for column, value, limit in (
            (SignInFailureRow.user_id, user_id, self._rule.account_limit),
            (SignInFailureRow.client_ip, address, self._rule.address_limit),
        ):
            # Attempts counted before this one (by id: the same instant is no tie), those still
            # being checked included: together they may already lock this one out.
            earlier = self._session.exec(
                select(SignInFailureRow.at).where(
                    col(column) == value,
                    col(SignInFailureRow.at) > since,
                    col(SignInFailureRow.id) < attempt.id,
                )
            ).all()
            if retry_after(earlier, limit, self._rule, now):
                self._forget(attempt.id)
                return None
        return attempt.id

    def _forget(self, attempt_id: int | None) -> None:
        self._session.exec(delete(SignInFailureRow).where(col(SignInFailureRow.id) == attempt_id))  # type: ignore[call-overload]
        self._session.commit()

    def succeeded(self, user_id: str, attempt_id: int) -> None:
        """The account's count starts again, and this attempt was no failure. The address's
        other failures stay: signing in to one's own account must not buy more guesses at
        others'."""
        self._session.exec(delete(SignInFailureRow).where(col(SignInFailureRow.user_id) == user_id))  # type: ignore[call-overload]
        self._forget(attempt_id)


def sign_in(
    auth: AuthService,
    throttle: SignInThrottle,
    audit: AuditService,
    *,
    user_id: str,
    password: str,
    address: str,
    kind: SessionKind,
) -> UserRow | None:
    """The user if the password is right, None if not; TooManyAttempts while locked out (the
    password is then not even checked). Every refusal and lockout is audited, never the
    password."""
    user_id = user_id[:80]
    attempted = Actor(user_id=user_id or "?", role=Role.SYSTEM)
    attempt = throttle.begin(user_id, address)
    if attempt is None:  # locked out by earlier failures, or attempts at the same moment
        locked = throttle.lockout(user_id, address) or Lockout("account", 1)
        audit.record(
            attempted,
            "auth.login",
            Outcome.REFUSED,
            kind=kind.value,
            throttled=locked.scope,
            retry_after=locked.retry_after,
        )
        raise TooManyAttempts(locked.retry_after)
    user = auth.authenticate(user_id, password)
    if user is None:
        audit.record(attempted, "auth.login", Outcome.REFUSED, kind=kind.value)
        started = throttle.lockout(user_id, address)
        if started is not None:
            audit.record(
                attempted,
                "auth.lockout",
                Outcome.REFUSED,
                kind=kind.value,
                scope=started.scope,
                retry_after=started.retry_after,
            )
        return None
    throttle.succeeded(user.user_id, attempt)
    return user
