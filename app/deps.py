"""Request-scoped dependencies, as `Annotated` aliases the routers declare.

Every request is authenticated (bearer token for API clients, session cookie for the web UI)
and every route states the permission it needs; refusals are audited like any other access.

Dependencies that do no blocking I/O are `async def`: FastAPI runs each plain `def` dependency
in its thread pool, and on a busy machine every such hand-off (a thread woken, then the event
loop) cost more than the list statements themselves (issue 20). A request's database work then
runs in one place: its endpoint's thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import anyio
from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from app.settings import Settings
from domain.case import Actor
from domain.deadlines import local_day
from domain.permissions import Permission, allows
from domain.rulebook import Rulebook
from services.absences import AbsenceService
from services.analytics import AnalyticsService
from services.appeals import AppealService
from services.audit import AuditService, Outcome
from services.auth import AuthService, SessionKind, SignedIn, SignInThrottle, csrf_matches
from services.cases import CaseService
from services.corrected_claim_check import CorrectedClaimCheck
from services.documents import DocumentStore
from services.errors import Forbidden, ServiceError
from services.follow_ups import FollowUpService
from services.ingest import IngestService
from services.notifications import NotificationService
from services.preferences import PreferenceService
from services.prevention import PreventionService
from services.saved_filters import SavedFilterService
from services.schemas import MAX_OFFSET
from services.stopped_cases import StoppedCaseService
from services.tasks import TaskService
from services.users import UserService

SESSION_COOKIE = "denials_session"
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Unauthenticated(ServiceError):
    status_code = 401


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's one database session. Opening it does no I/O (a connection is taken on
    first use); ending a transaction the request left open is a round trip, so that close runs
    off the event loop, shielded so that a cancelled request still returns its connection."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(session.close)
        else:
            session.close()


async def get_client(request: Request) -> Client:
    return request.app.state.client  # type: ignore[no-any-return]


def get_rulebook(request: Request) -> Rulebook:
    """The rulebook, for code that holds the request (pages); RulebookDep as a dependency."""
    return request.app.state.rulebook  # type: ignore[no-any-return]


async def _rulebook(request: Request) -> Rulebook:
    return get_rulebook(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientDep = Annotated[Client, Depends(get_client)]
RulebookDep = Annotated[Rulebook, Depends(_rulebook)]


async def get_audit(request: Request, session: SessionDep) -> AuditService:
    # The peer address; behind a proxy uvicorn puts the client's there, trusting only the
    # proxies it is told to (--forwarded-allow-ips): a client cannot forge its audit address.
    return AuditService(session, request.client.host if request.client else "")


async def get_auth(session: SessionDep, settings: SettingsDep) -> AuthService:
    return AuthService(
        session,
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_max_hours),
    )


AuditDep = Annotated[AuditService, Depends(get_audit)]
AuthDep = Annotated[AuthService, Depends(get_auth)]


async def get_throttle(session: SessionDep, settings: SettingsDep) -> SignInThrottle:
    return SignInThrottle(session, settings.sign_in_rule())


async def client_address(request: Request) -> str:
    # The peer address, as the audit trail records it (see get_audit): behind a proxy,
    # uvicorn puts the client's there, trusting only the proxies it is told to.
    return request.client.host if request.client else ""


ThrottleDep = Annotated[SignInThrottle, Depends(get_throttle)]
ClientAddress = Annotated[str, Depends(client_address)]

bearer_scheme = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/token")


async def signed_in(
    request: Request,
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> SignedIn:
    """The caller, from a bearer token or the session cookie; 401 if neither is valid.
    A cookie-authenticated change must also echo the session's CSRF token."""
    if credentials is not None:
        user = auth.resolve(credentials.credentials, SessionKind.BEARER)
        if user is None:
            raise Unauthenticated("the bearer token is invalid or has expired: sign in again")
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    user = auth.resolve(cookie, SessionKind.COOKIE) if cookie else None
    if user is None:
        raise Unauthenticated("sign in first: no valid bearer token or session")
    if request.method in UNSAFE_METHODS:
        given = request.headers.get("x-csrf-token")
        if given is None and "form" in request.headers.get("content-type", ""):
            given = str((await request.form()).get("csrf_token", "")) or None
        if not csrf_matches(user.csrf_token, given):
            raise Forbidden("missing or wrong CSRF token: reload the page and try again")
    return user


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


def record_refusal(
    audit: AuditService, actor: Actor, request: Request, permission: Permission
) -> None:
    """An access refused for want of a permission, in the audit trail (API and pages)."""
    audit.record(
        actor,
        "access.refused",
        Outcome.REFUSED,
        method=request.method,
        path=request.url.path,
        permission=permission.value,
    )


def require(permission: Permission, *alternatives: Permission) -> Callable[..., Actor]:
    """A dependency giving the acting user if their role has `permission` (or one of the
    alternatives), else 403 naming `permission` (recorded in the audit trail)."""

    async def dependency(request: Request, user: SignedInDep, audit: AuditDep) -> Actor:
        if not any(allows(user.actor.role, p) for p in (permission, *alternatives)):
            await run_in_threadpool(record_refusal, audit, user.actor, request, permission)
            raise Forbidden(
                f"role '{user.actor.role.value}' lacks the '{permission.value}' permission"
            )
        return user.actor

    return dependency


CaseReader = Annotated[Actor, Depends(require(Permission.VIEW_CASES))]
TaskWorker = Annotated[Actor, Depends(require(Permission.WORK_TASKS))]
Ingester = Annotated[Actor, Depends(require(Permission.INGEST_FILES))]
IngestResumer = Annotated[Actor, Depends(require(Permission.RESUME_INGESTS))]
Supervisor = Annotated[Actor, Depends(require(Permission.SUPERVISE))]
AuditReader = Annotated[Actor, Depends(require(Permission.VIEW_AUDIT))]
RuleReader = Annotated[Actor, Depends(require(Permission.VIEW_RULES))]
RuleManager = Annotated[Actor, Depends(require(Permission.MANAGE_RULES))]
UserManager = Annotated[Actor, Depends(require(Permission.MANAGE_USERS))]
Attester = Annotated[Actor, Depends(require(Permission.ATTEST))]
WorkflowRestarter = Annotated[Actor, Depends(require(Permission.RESTART_WORKFLOWS))]
# Appeal letters: billers and supervisors, and physicians for the appeals they attest.
LetterReader = Annotated[Actor, Depends(require(Permission.VIEW_CASES, Permission.ATTEST))]


async def get_case_service(
    session: SessionDep,
    client: ClientDep,
    rulebook: RulebookDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> CaseService:
    return CaseService(
        session, client, rulebook, settings.case_policy(), settings.task_queue, audit
    )


CaseServiceDep = Annotated[CaseService, Depends(get_case_service)]


async def office_today(settings: SettingsDep) -> Callable[[], date]:
    """Today in the billing office's time zone (its day parks and brings back cases)."""
    return lambda: local_day(datetime.now(UTC), settings.tz)


TodayDep = Annotated[Callable[[], date], Depends(office_today)]


async def get_task_service(
    request: Request,
    session: SessionDep,
    client: ClientDep,
    audit: AuditDep,
    today: TodayDep,
    rulebook: RulebookDep,
    settings: SettingsDep,
) -> TaskService:
    appeals = AppealService(session, client, rulebook, DocumentStore(settings.data_dir), audit)
    registry = request.app.state.rule_store.registry  # read when a claim is checked
    check = CorrectedClaimCheck(session, registry, settings.submitter, audit)
    return TaskService(session, client, audit, today, appeals=appeals, claim_check=check)


async def get_follow_up_service(
    session: SessionDep, audit: AuditDep, today: TodayDep
) -> FollowUpService:
    return FollowUpService(session, audit, today)


async def get_preference_service(session: SessionDep) -> PreferenceService:
    return PreferenceService(session)


async def get_user_service(session: SessionDep) -> UserService:
    return UserService(session)


async def get_ingest_service(
    cases: CaseServiceDep, session: SessionDep, rulebook: RulebookDep, audit: AuditDep
) -> IngestService:
    return IngestService(session, cases, rulebook, audit)


async def get_absence_service(
    session: SessionDep, client: ClientDep, settings: SettingsDep, audit: AuditDep
) -> AbsenceService:
    return AbsenceService(session, client, settings.task_queue, audit)


async def get_prevention_service(
    session: SessionDep, settings: SettingsDep, audit: AuditDep
) -> PreventionService:
    return PreventionService(session, audit, settings.pattern_window_days)


def get_analytics_service(session: SessionDep, audit: AuditDep) -> AnalyticsService:
    # A plain def (in a thread): the service reads its KPI targets file.
    return AnalyticsService(session, audit)


async def get_stopped_case_service(
    session: SessionDep, client: ClientDep, settings: SettingsDep, audit: AuditDep
) -> StoppedCaseService:
    return StoppedCaseService(session, client, settings.task_queue, audit)


AbsenceServiceDep = Annotated[AbsenceService, Depends(get_absence_service)]
StoppedCaseServiceDep = Annotated[StoppedCaseService, Depends(get_stopped_case_service)]
AnalyticsServiceDep = Annotated[AnalyticsService, Depends(get_analytics_service)]
PreventionServiceDep = Annotated[PreventionService, Depends(get_prevention_service)]
TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
FollowUpServiceDep = Annotated[FollowUpService, Depends(get_follow_up_service)]
PreferenceServiceDep = Annotated[PreferenceService, Depends(get_preference_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
IngestServiceDep = Annotated[IngestService, Depends(get_ingest_service)]


async def get_appeal_service(
    session: SessionDep,
    client: ClientDep,
    rulebook: RulebookDep,
    settings: SettingsDep,
    audit: AuditDep,
) -> AppealService:
    return AppealService(session, client, rulebook, DocumentStore(settings.data_dir), audit)


AppealServiceDep = Annotated[AppealService, Depends(get_appeal_service)]


async def get_saved_filters(session: SessionDep, audit: AuditDep) -> SavedFilterService:
    return SavedFilterService(session, audit)


async def get_notification_service(session: SessionDep) -> NotificationService:
    return NotificationService(session)


SavedFiltersDep = Annotated[SavedFilterService, Depends(get_saved_filters)]
NotificationsDep = Annotated[NotificationService, Depends(get_notification_service)]
# Bounded so that an id beyond the column's integer is a 422, not a database error.
NotificationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
