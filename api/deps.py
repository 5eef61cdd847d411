"""Request-scoped dependencies, as `Annotated` aliases the routers declare."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session
from temporalio.client import Client

from denials.config import Settings
from domain.case import Actor
from domain.rulebook import Rulebook
from services.cases import CaseService
from services.errors import NotFound, ServiceError
from services.ingest import IngestService
from services.tasks import TaskService
from services.users import UserService


class Unauthenticated(ServiceError):
    status_code = 401


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_client(request: Request) -> Client:
    return request.app.state.client  # type: ignore[no-any-return]


def get_rulebook(request: Request) -> Rulebook:
    return request.app.state.rulebook  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientDep = Annotated[Client, Depends(get_client)]
RulebookDep = Annotated[Rulebook, Depends(get_rulebook)]


def get_case_service(
    session: SessionDep, client: ClientDep, rulebook: RulebookDep, settings: SettingsDep
) -> CaseService:
    return CaseService(session, client, rulebook, settings.case_policy(), settings.task_queue)


def get_ingest_service(
    cases: Annotated[CaseService, Depends(get_case_service)],
    session: SessionDep,
    rulebook: RulebookDep,
) -> IngestService:
    return IngestService(session, cases, rulebook)


def get_task_service(session: SessionDep, client: ClientDep) -> TaskService:
    return TaskService(session, client)


def get_user_service(session: SessionDep) -> UserService:
    return UserService(session)


CaseServiceDep = Annotated[CaseService, Depends(get_case_service)]
TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
IngestServiceDep = Annotated[IngestService, Depends(get_ingest_service)]


def current_actor(
    users: UserServiceDep,
    x_user: Annotated[str | None, Header(description="Acting user id")] = None,
) -> Actor:
    """Who is acting. Identified by the X-User header until token authentication lands."""
    if not x_user:
        raise Unauthenticated("missing X-User header naming the acting user")
    try:
        return users.actor(x_user)
    except NotFound as exc:
        raise Unauthenticated(f"unknown user '{x_user}'") from exc


ActorDep = Annotated[Actor, Depends(current_actor)]
