"""Users and their roles (the authentication itself is the API issue's)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from db.models import UserRow
from domain.case import Actor, Role
from services.errors import NotFound

DEMO_USERS = (
    ("alice", "Alice Moreno", Role.BILLER),
    ("bob", "Bob Okafor", Role.BILLER),
    ("sam", "Sam Whitfield", Role.SUPERVISOR),
    ("ada", "Ada Lindqvist", Role.ADMIN),
)


class UserService:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: str) -> UserRow:
        user = self._session.get(UserRow, user_id)
        if user is None or not user.active:
            raise NotFound(f"no active user '{user_id}'")
        return user

    def actor(self, user_id: str) -> Actor:
        user = self.get(user_id)
        return Actor(user_id=user.user_id, role=Role(user.role))

    def list(self) -> list[UserRow]:
        return list(self._session.exec(select(UserRow).order_by(col(UserRow.user_id))))

    def ensure_demo_users(self) -> None:
        for user_id, name, role in DEMO_USERS:
            if self._session.get(UserRow, user_id) is None:
                self._session.add(
                    UserRow(
                        user_id=user_id,
                        display_name=name,
                        role=role.value,
                        created_at=datetime.now(UTC),
                    )
                )
        self._session.commit()
