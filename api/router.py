"""Every JSON router under /api/v1, in the order the composition root (app.http) mounts them."""

from __future__ import annotations

from api.routes import (
    absences,
    analytics,
    appeals,
    audit,
    auth,
    case_filters,
    cases,
    claim_checks,
    codec,
    health,
    ingest,
    notifications,
    payer_rules,
    prevention,
    prevention_loop,
    risk_models,
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
    prevention_loop.router,
    stopped_cases.router,
    case_filters.router,
    analytics.router,
    codec.router,
    claim_checks.router,
    risk_models.router,
)
