"""Signing in: OAuth2 password flow for API clients (bearer tokens), throttled per account and
per client address (services.auth.sign_in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.errors import ERROR_RESPONSES, ErrorOut
from app.deps import (
    AuditDep,
    AuthDep,
    ClientAddress,
    SettingsDep,
    SignedInDep,
    ThrottleDep,
    Unauthenticated,
    bearer_scheme,
)
from domain.case import Actor, Role
from services.auth import SessionKind, TooManyAttempts, sign_in

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


@router.post(
    "/token",
    responses={
        429: {"model": ErrorOut, "description": "Too many failed sign-ins: wait Retry-After s"}
    },
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    auth: AuthDep,
    throttle: ThrottleDep,
    audit: AuditDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Token:
    """Exchange a user id and password for a bearer token. After too many failures for the
    user id or from the address, 429 with Retry-After (seconds), even for the right password."""
    try:
        user = sign_in(
            auth,
            throttle,
            audit,
            user_id=form.username,
            password=form.password,
            address=address,
            kind=SessionKind.BEARER,
        )
    except TooManyAttempts as exc:
        # HTTPException, not the ServiceError handler: only it carries the header.
        raise HTTPException(
            exc.status_code, exc.message, headers={"Retry-After": str(exc.retry_after)}
        ) from exc
    if user is None:
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
