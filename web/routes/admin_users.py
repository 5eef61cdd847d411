"""The admin's user pages: the list (role, active or away, e-mail), adding a user, and one
user's page (name, e-mail and role, a new password, deactivating after a confirmation, or
reactivating). Changes go through services.user_admin, as the API's do: audited, the user
signed out when deactivated or given a new password, their open work handed back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.deps import AbsenceServiceDep, AuditDep, AuthDep, SessionDep, UserServiceDep
from db.models import UserRow
from domain.permissions import Permission
from services.auth import SignedIn
from services.errors import Conflict, Invalid
from services.supervision import away_until
from services.user_admin import UserAdmin
from services.users import STAFF_ROLES, NewUser, UserChange, cases_holding
from web.session import PostedForm, page_permission
from web.templating import redirect_with_flash, render
from web.wording import plain_error

router = APIRouter(include_in_schema=False)

AdminPage = Annotated[SignedIn, Depends(page_permission(Permission.MANAGE_USERS))]
ROLES = tuple((role.value, role.value) for role in STAFF_ROLES)  # select options


def _admin(
    users: UserServiceDep, auth: AuthDep, audit: AuditDep, away: AbsenceServiceDep
) -> UserAdmin:
    return UserAdmin(users, auth, audit, away)


UserAdminDep = Annotated[UserAdmin, Depends(_admin)]


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """Every problem at once, each beside its field (the first one per field)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        errors.setdefault(name, plain_error(error))
    return errors


def _typed(form: Mapping[str, Any], *names: str) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in names}


@router.get("/admin", response_class=HTMLResponse)
def users_page(
    request: Request, users: UserServiceDep, session: SessionDep, user: AdminPage
) -> HTMLResponse:
    return render(
        request,
        "admin.html",
        {"user": user, "users": users.list(), "away": away_until(session)},
    )


def _new_user_page(
    request: Request, user: SignedIn, values: dict[str, str], errors: dict[str, str]
) -> HTMLResponse:
    context = {"user": user, "values": values, "errors": errors, "roles": ROLES}
    return render(request, "admin_user_new.html", context, 422 if errors else 200)


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_form(request: Request, user: AdminPage) -> HTMLResponse:
    return _new_user_page(request, user, {"role": "biller"}, {})


@router.post("/admin/users/new", response_model=None)
def create_user(
    request: Request, form: PostedForm, admin: UserAdminDep, user: AdminPage
) -> Response:
    values = _typed(form, "user_id", "display_name", "role", "email")
    password = str(form.get("password") or "")
    try:
        new = NewUser.model_validate(
            {**values, "email": values["email"] or None, "password": password}
        )
        created = admin.create(new, user.actor)
    except ValidationError as exc:
        return _new_user_page(request, user, values, _field_errors(exc))
    except Conflict:
        errors = {"user_id": f"'{values['user_id']}' is taken: choose another user id"}
        return _new_user_page(request, user, values, errors)
    return redirect_with_flash(
        f"/admin/users/{created.user_id}",
        f"User {created.user_id} added as {created.role}: give them the password in person",
    )


def _user_page(
    request: Request,
    user: SignedIn,
    shown: UserRow,
    session: SessionDep,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "user": user,
        "shown": shown,
        "away": away_until(session, [shown.user_id]).get(shown.user_id),
        "roles": ROLES,
        "errors": errors or {},
        "values": values
        or {"display_name": shown.display_name, "email": shown.email or "", "role": shown.role},
    }
    return render(request, "admin_user.html", context, 422 if errors else 200)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request, user_id: str, users: UserServiceDep, session: SessionDep, user: AdminPage
) -> HTMLResponse:
    return _user_page(request, user, users.get(user_id), session)


@router.post("/admin/users/{user_id}", response_model=None)
async def change_user(
    request: Request,
    user_id: str,
    form: PostedForm,
    users: UserServiceDep,
    admin: UserAdminDep,
    session: SessionDep,
    user: AdminPage,
) -> Response:
    """One of the page's forms: `action` is details (name, e-mail, role), password or
    reactivate (deactivating has its own confirmation page)."""
    shown = users.get(user_id)
    action = str(form.get("action") or "")
    values = _typed(form, "display_name", "email", "role")
    try:
        if action == "details":
            change = UserChange.model_validate(values)
            done = "Saved"
        elif action == "password":
            change = UserChange(password=str(form.get("password") or ""))
            done = "New password set and every session of theirs ended: give it to them in person"
        elif action == "reactivate":
            change, done = UserChange(active=True), "Reactivated: they can sign in again"
        else:
            raise Invalid("choose what to change")
        await admin.change(user_id, change, user.actor)
    except (ValidationError, Invalid) as exc:
        if isinstance(exc, ValidationError):
            errors = _field_errors(exc)
        else:  # the service's refusals: "password: <why>", or the whole change refused
            name, _, why = exc.message.partition(": ")
            errors = {name: why} if name == "password" and why else {action: exc.message}
        session.refresh(shown)
        # The details form shows what was typed in it, else what is saved.
        typed = values if action == "details" else None
        return _user_page(request, user, shown, session, errors, typed)
    return redirect_with_flash(f"/admin/users/{user_id}", done)


@router.get("/admin/users/{user_id}/deactivate", response_class=HTMLResponse)
def confirm_deactivation(
    request: Request, user_id: str, users: UserServiceDep, session: SessionDep, user: AdminPage
) -> HTMLResponse:
    shown = users.get(user_id)
    context = {
        "user": user,
        "shown": shown,
        "yourself": shown.user_id == user.actor.user_id,
        "holding": len(cases_holding(session, user_id)),
    }
    return render(request, "admin_user_deactivate.html", context)


@router.post("/admin/users/{user_id}/deactivate")
async def deactivate(
    user_id: str, form: PostedForm, admin: UserAdminDep, user: AdminPage
) -> RedirectResponse:
    try:
        await admin.change(user_id, UserChange(active=False), user.actor)
    except Invalid as exc:
        return redirect_with_flash(f"/admin/users/{user_id}", f"Not deactivated: {exc}")
    return redirect_with_flash(
        f"/admin/users/{user_id}",
        "Deactivated: signed out everywhere, their open work is going back to the queues",
    )
