"""Passwords and sessions.

Passwords are hashed with Argon2 (argon2-cffi). A session is a random token: a bearer token for
API clients or an HttpOnly cookie for the web UI, stored only as its SHA-256, ending after a
period of inactivity or at a hard limit, and carrying the CSRF token its forms must echo.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete

from db.models import SessionRow, UserRow
from domain.case import Actor, Role

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
        row = self._session.get(SessionRow, _token_hash(token))
        now = datetime.now(UTC)
        if row is None or row.kind != kind.value:
            return None
        if now >= row.expires_at or now - row.last_seen_at > self._idle:
            self._session.delete(row)
            self._session.commit()
            return None
        user = self._session.get(UserRow, row.user_id)
        if user is None or not user.active:
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
