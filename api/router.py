"""Every JSON route under /api/v1, as one router the composition root (app.http) mounts."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    absences,
    analytics,
    appeals,
    audit,
    auth,
    case_filters,
    cases,
    codec,
    health,
    ingest,
    notifications,
    payer_rules,
    prevention,
    stopped_cases,
    tasks,
    users,
)

ROUTERS = (
    health.router,
    auth.router,
    cases.router,
    appeals.router,
    tasks.router,
    ingest.router,
    audit.router,
    payer_rules.router,
    users.router,
    notifications.router,
    absences.router,
    prevention.router,
    stopped_cases.router,
    case_filters.router,
    analytics.router,
    codec.router,
)


def api_router() -> APIRouter:
    router = APIRouter()
    for route in ROUTERS:
        router.include_router(route)
    return router
