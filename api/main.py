"""The FastAPI application: API routers, web pages and error mapping."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.routes import cases, health, ingest, tasks, users
from denials.config import Settings
from domain.rulebook import Rulebook
from services.errors import ServiceError
from web import pages
from web.templating import STATIC_DIR, render_error


def create_app(
    settings: Settings, *, engine: Engine, client: Client, rulebook: Rulebook
) -> FastAPI:
    app = FastAPI(
        title="Denials case manager",
        version="0.1.0",
        description="Every payer denial or rejection is a durable case: triage, root cause, "
        "corrected claim or appeal, payer response, prevention.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.client = client
    app.state.rulebook = rulebook

    routers = (health.router, cases.router, tasks.router, ingest.router, users.router)
    for router in (*routers, pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
        return render_error(request, exc.status_code, exc.message)

    return app
