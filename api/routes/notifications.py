"""The signed-in user's own notifications (services.notifications): every role has some."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from api.deps import SessionDep, SignedInDep
from api.errors import ERROR_RESPONSES
from services.notifications import NotificationOut, NotificationPreferences, NotificationService

router = APIRouter(
    prefix="/api/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES
)


def get_notification_service(session: SessionDep) -> NotificationService:
    return NotificationService(session)


NotificationsDep = Annotated[NotificationService, Depends(get_notification_service)]
# Bounded so that an id beyond the column's integer is a 422, not a database error.
NotificationId = Annotated[int, Path(ge=1, le=2**31 - 1)]


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
