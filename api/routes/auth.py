"""Signing in: OAuth2 password flow for API clients (bearer tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import AuditDep, AuthDep, SettingsDep, SignedInDep, Unauthenticated, bearer_scheme
from api.errors import ERROR_RESPONSES
from domain.case import Actor, Role
from services.audit import Outcome
from services.auth import SessionKind

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user_id: str
    role: Role


class Me(BaseModel):
    user_id: str
    display_name: str
    role: Role


@router.post("/token")
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    auth: AuthDep,
    audit: AuditDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a user id and password for a bearer token."""
    user = auth.authenticate(form.username, form.password)
    if user is None:
        audit.record(
            Actor(user_id=form.username[:80] or "?", role=Role.SYSTEM),
            "auth.login",
            Outcome.REFUSED,
            kind="bearer",
        )
        raise Unauthenticated("wrong user id or password")
    token, _ = auth.open_session(user, SessionKind.BEARER)
    audit.record(Actor(user_id=user.user_id, role=Role(user.role)), "auth.login", kind="bearer")
    return Token(
        access_token=token,
        expires_in=settings.session_idle_minutes * 60,
        user_id=user.user_id,
        role=Role(user.role),
    )


@router.get("/me")
def me(user: SignedInDep) -> Me:
    return Me(user_id=user.actor.user_id, display_name=user.display_name, role=user.actor.role)


@router.post("/logout", status_code=204)
def logout(
    user: SignedInDep,
    auth: AuthDep,
    audit: AuditDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """End the bearer token's session."""
    if credentials is not None:
        auth.close(credentials.credentials)
    audit.record(user.actor, "auth.logout", kind=user.kind.value)
