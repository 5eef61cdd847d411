"""Every server-rendered page's router, in the order the composition root (app.http) mounts them."""

from __future__ import annotations

from web.routes import (
    admin_payer_rules,
    admin_users,
    appeal_page,
    case_list,
    case_page,
    claim_checks,
    dashboard,
    ingest_pages,
    notifications_page,
    prevention_loop,
    prevention_pages,
    risk_models_page,
    supervisor,
    worklists,
)
from web.routes import auth as sign_in_pages

PAGES = (
    sign_in_pages.router,
    case_list.router,
    worklists.router,
    case_page.router,
    appeal_page.router,
    supervisor.router,
    ingest_pages.router,
    prevention_pages.router,
    prevention_loop.router,
    admin_users.router,
    admin_payer_rules.router,
    dashboard.router,
    notifications_page.router,
    claim_checks.router,
    risk_models_page.router,
)
