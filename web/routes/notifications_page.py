"""The notifications page and the header's bell (services.notifications)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import NotificationId, NotificationsDep
from services.notifications import NotificationPreferences
from web.session import PageUser, PostedForm
from web.templating import redirect_with_flash, render, templates

router = APIRouter(include_in_schema=False)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, notes: NotificationsDep, user: PageUser) -> HTMLResponse:
    user_id = user.actor.user_id
    return render(
        request,
        "notifications.html",
        {
            "user": user,
            "items": notes.list(user_id),
            "unread": notes.unread_count(user_id),
            "preferences": notes.preferences(user_id),
        },
    )


@router.get("/notifications/bell", response_class=HTMLResponse)
def bell(request: Request, notes: NotificationsDep, user: PageUser) -> HTMLResponse:
    """The header's bell with the unread count: fetched by the page, so rendering a page
    costs no count."""
    return templates.TemplateResponse(
        request, "notifications_bell.html", {"unread": notes.unread_count(user.actor.user_id)}
    )


@router.post("/notifications/read-all")
def read_all(form: PostedForm, notes: NotificationsDep, user: PageUser) -> RedirectResponse:
    marked = notes.mark_all_read(user.actor.user_id)
    return redirect_with_flash("/notifications", f"{marked} marked read")


@router.post("/notifications/preferences")
def preferences(form: PostedForm, notes: NotificationsDep, user: PageUser) -> RedirectResponse:
    wanted = NotificationPreferences(email_digest=form.get("email_digest") == "on")
    notes.set_preferences(user.actor.user_id, wanted)
    state = "on" if wanted.email_digest else "off"
    return redirect_with_flash("/notifications", f"Daily e-mail digest {state}")


@router.post("/notifications/{notification_id}/read")
def read_one(
    notification_id: NotificationId, form: PostedForm, notes: NotificationsDep, user: PageUser
) -> RedirectResponse:
    note = notes.mark_read(user.actor.user_id, notification_id)
    return redirect_with_flash("/notifications", f"Marked read: claim {note.claim_id}")
