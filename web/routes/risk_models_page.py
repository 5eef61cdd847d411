"""The learned-risk models page for supervisors: the stored versions with their measured
quality, which one checks use, a button to retrain now, and one to put a version back."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import AuditDep, ClientDep, SessionDep, SettingsDep
from services.claim_risk.admin import history_size, list_models, put_in_use, start_retrain
from services.errors import ServiceError
from web.session import PostedForm, SupervisorPage
from web.templating import org_today, redirect_with_flash, render

router = APIRouter(include_in_schema=False)
PAGE = "/risk-models"


@router.get(PAGE, response_class=HTMLResponse)
def risk_models_page(request: Request, session: SessionDep, user: SupervisorPage) -> HTMLResponse:
    context = {
        "user": user,
        "models": list_models(session),
        "history": history_size(session, org_today()),
    }
    return render(request, "risk_models.html", context)


@router.post(f"{PAGE}/retrain")
async def retrain_now(
    form: PostedForm,
    client: ClientDep,
    settings: SettingsDep,
    audit: AuditDep,
    user: SupervisorPage,
) -> RedirectResponse:
    try:
        started = await start_retrain(client, settings.task_queue, user.actor, audit)
    except ServiceError as exc:
        return redirect_with_flash(PAGE, f"Not retrained: {exc.message}")
    return redirect_with_flash(PAGE, started.detail.capitalize())


@router.post(PAGE + "/{version}/activate")
def use_version(
    version: str, form: PostedForm, session: SessionDep, audit: AuditDep, user: SupervisorPage
) -> RedirectResponse:
    try:
        put_in_use(session, version, user.actor, audit)
    except ServiceError as exc:
        return redirect_with_flash(PAGE, exc.message)
    return redirect_with_flash(PAGE, f"Checks now use risk model {version}")
