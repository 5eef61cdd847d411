"""The signed-in user's own notifications (services.notifications): every role has some."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.errors import ERROR_RESPONSES
from app.deps import NotificationsDep, SignedInDep
from services.notifications import NotificationOut, NotificationPreferences

router = APIRouter(
    prefix="/api/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES
)


class NotificationList(BaseModel):
    unread: int
    items: list[NotificationOut]


class Marked(BaseModel):
    marked: int


@router.get("")
def list_notifications(notes: NotificationsDep, user: SignedInDep) -> NotificationList:
    """Yours, unread first then newest (at most 100), and how many are unread."""
    user_id = user.actor.user_id
    return NotificationList(unread=notes.unread_count(user_id), items=notes.list(user_id))


@router.post("/read-all")
def mark_all_read(notes: NotificationsDep, user: SignedInDep) -> Marked:
    return Marked(marked=notes.mark_all_read(user.actor.user_id))


@router.post("/{notification_id}/read")
def mark_read(notification_id: int, notes: NotificationsDep, user: SignedInDep) -> NotificationOut:
    """404 for another user's notification, as for one that does not exist."""
    return notes.mark_read(user.actor.user_id, notification_id)


@router.get("/preferences")
def get_preferences(notes: NotificationsDep, user: SignedInDep) -> NotificationPreferences:
    return notes.preferences(user.actor.user_id)


@router.put("/preferences")
def set_preferences(
    preferences: NotificationPreferences, notes: NotificationsDep, user: SignedInDep
) -> NotificationPreferences:
    """The daily e-mail digest on or off (urgent alerts are always e-mailed)."""
    return notes.set_preferences(user.actor.user_id, preferences)
