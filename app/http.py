"""The composition root: one FastAPI application mounting the JSON API (api.router) and the
web pages (web.pages) over the shared dependencies of app.deps, with the middleware and the
error mapping (JSON under /api/, a page elsewhere). Only this module imports both."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import prometheus
from api.docs_pages import add_docs
from api.errors import error_body
from api.prometheus import RequestMetrics
from api.router import ROUTERS
from api.routes.codec import CodecCors, ui_origins
from api.security_headers import SecurityHeaders
from app.settings import Settings
from app.upload_limits import UploadLimits
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.errors import ServiceError
from services.ingest import IngestService
from services.ingest_background import BackgroundIngests
from services.ingest_resume import resume_at_start
from services.payer_rules import PayerRuleStore
from web import drafts
from web.error_pages import MESSAGES, wants_page
from web.pages import PAGES
from web.session import LoginRequired, StaleForm
from web.templating import STATIC_DIR, render_error, use_policy
from web.wording import located_errors

DATABASE_RETRY_SECONDS = 5
logger = logging.getLogger(__name__)
# SQLSTATE classes of a lost or refused connection (08) and of a server shutting down (57P0x).
_CONNECTION_STATES = ("08", "57P0")


def unreachable(exc: Exception) -> bool:
    """Whether a database error means the database cannot be reached (or is going away)."""
    if isinstance(exc, InterfaceError | PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or ""
    if state.startswith(_CONNECTION_STATES):
        return True
    text = str(exc.orig).lower()
    return "unable to open database" in text or ("connection" in text and not state)


def ingest_service_for(
    settings: Settings, client: Client, rulebook: Rulebook
) -> Callable[[Session], IngestService]:
    """How a background task (not a request) builds the ingest service on its own session."""

    def build(session: Session) -> IngestService:
        audit = AuditService(session)
        cases = CaseService(
            session, client, rulebook, settings.case_policy(), settings.task_queue, audit
        )
        return IngestService(session, cases, rulebook, audit)

    return build


def create_app(
    settings: Settings,
    *,
    engine: Engine,
    client: Client,
    rulebook: Rulebook,
    resume_ingests: bool = True,
) -> FastAPI:
    """The app. Served (uvicorn runs its lifespan), it resumes in the background the ingests a
    stopped process left unfinished (`resume_ingests`; services.ingest_resume)."""

    service_for = ingest_service_for(settings, client, rulebook)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resuming = (
            asyncio.create_task(
                resume_at_start(engine, service_for), name="resume-unfinished-ingests"
            )
            if resume_ingests
            else None
        )
        try:
            yield
        finally:
            # Stopping mid-file releases its lease: the next start takes it at once.
            if resuming is not None:
                resuming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await resuming
            await app.state.background_ingests.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Denials case manager",
        version="0.1.0",
        description="Every payer denial or rejection is a durable case: triage, root cause, "
        "corrected claim or appeal, payer response, prevention. Sign in with "
        "POST /api/v1/auth/token and send the token as a bearer token.",
        # FastAPI's pages load Swagger UI and ReDoc from a CDN: api.docs_pages serves /docs.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    use_policy(settings.case_policy())
    app.state.engine = engine
    app.state.client = client
    app.state.rulebook = rulebook
    app.state.rule_store = PayerRuleStore(engine, rulebook.payer_rules_file)
    app.state.metrics_registry = prometheus.app_registry(engine)
    app.state.background_ingests = BackgroundIngests(engine, service_for)
    app.add_middleware(UploadLimits)  # innermost: its 413 is timed, counted and headed too
    app.add_middleware(RequestMetrics, registry=app.state.metrics_registry)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(CodecCors, origins=ui_origins(settings.temporal_ui_base))
    # Outermost: behind a trusted TLS proxy every layer sees https (Secure cookies, https asset
    # URLs, HSTS); X-Forwarded-* from any other address is ignored.
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    # With DENIALS_METRICS_PORT, /metrics has its own listener (denials.launch).
    metrics = [prometheus.router] if settings.metrics_port is None else []
    for router in (*ROUTERS, *metrics, *PAGES):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    add_docs(app)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        if request.url.path.startswith("/api/"):
            if exc.status_code == 401:
                headers["WWW-Authenticate"] = "Bearer"
            return JSONResponse(error_body(exc), status_code=exc.status_code, headers=headers)
        page = render_error(request, exc.status_code, exc.message)
        page.headers.update(headers)
        return page

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> Response:
        # The read model (and the user store) cannot be reached: a plain 500 would read as a
        # bug. Work already handed to Temporal is kept there; the read model catches up. Any
        # other database error (a missing table, a deadlock) stays a logged 500.
        if not unreachable(exc):
            raise exc
        logger.warning("database unreachable: %s", type(getattr(exc, "orig", exc)).__name__)
        message = (
            "the case database cannot be reached right now: try again in a moment (changes "
            "already sent to cases are kept and will show once it is back)"
        )
        headers = {"Retry-After": str(DATABASE_RETRY_SECONDS)}
        if request.url.path.startswith("/api/") or request.url.path == "/metrics":
            return JSONResponse({"detail": message}, status_code=503, headers=headers)
        page = render_error(request, 503, message, lookups=False)
        page.headers.update(headers)
        return page

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's default answer echoes each refused value ("input"): a password, a patient's
        # name. Say what is wrong and where, never what was sent.
        errors = [
            {key: value for key, value in error.items() if key not in ("input", "ctx", "url")}
            for error in exc.errors()
        ]
        if wants_page(request):  # a page's address or form: say it in words, on a page
            message = f"The page cannot show what was asked. {located_errors(errors)}."
            return render_error(request, 422, message)
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # An unknown address, or a form's address opened as a page (405): a page, not JSON.
        if not wants_page(request):
            return await http_exception_handler(request, exc)
        page = render_error(request, exc.status_code, MESSAGES.get(exc.status_code, exc.detail))
        page.headers.update(exc.headers or {})
        return page

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return drafts.after_lost_session(request, exc)

    @app.exception_handler(StaleForm)
    async def _stale_form(request: Request, exc: StaleForm) -> Response:
        return drafts.after_stale_form(request, exc)

    return app
