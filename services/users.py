"""Users, their roles and passwords, and who is carrying how much work."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from db.models import CaseRow, TaskRow, UserRow
from domain.case import Actor, CaseStatus, Role, TaskStatus
from domain.permissions import Permission, allows, roles_allowed
from domain.sign_in import password_problem
from services.auth import hash_password
from services.errors import Conflict, Invalid, NotFound

DEMO_PASSWORD = "demo"
DEMO_USERS = (
    ("alice", "Alice Moreno", Role.BILLER),
    ("bob", "Bob Okafor", Role.BILLER),
    ("sam", "Sam Whitfield", Role.SUPERVISOR),
    ("ada", "Ada Lindqvist", Role.ADMIN),
    ("drew", "Dr. Drew Okafor", Role.PHYSICIAN),
)
_USER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
# One address, no spaces or line breaks (it goes into an e-mail header).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str | None) -> str | None:
    if value is None or value == "":
        return value
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("an e-mail address such as name@example.org")
    return value


STAFF_ROLES = (Role.BILLER, Role.SUPERVISOR, Role.ADMIN, Role.PHYSICIAN)


@cache
def _demo_password_hash() -> str:
    """One Argon2 hash (salted) serves every demo user: hashing is deliberately slow."""
    return hash_password(DEMO_PASSWORD)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    display_name: str
    role: str
    active: bool
    email: str | None = None


class NewUserIdentity(BaseModel):
    """A new user but the password: checked before a password is asked for."""

    user_id: str = Field(description="Lower-case letters, digits, '.', '_' or '-'")
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    email: str | None = Field(default=None, description="Where notifications are e-mailed")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _email(value) or None

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        if not _USER_ID.match(value):
            raise ValueError("2-80 lower-case letters, digits, '.', '_' or '-', starting with one")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: Role) -> Role:
        if value not in STAFF_ROLES:
            raise ValueError(f"one of {', '.join(r.value for r in STAFF_ROLES)}")
        return value


class NewUser(NewUserIdentity):
    password: str = Field(
        description="At least 12 characters, not a common or breached password", repr=False
    )

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        # The user's own id and name are easy guesses too (validated before the password).
        return _allowed_password(value, info.data.get("user_id"), info.data.get("display_name"))


def _allowed_password(password: str, *user_inputs: str | None) -> str:
    problem = password_problem(password, [u for u in user_inputs if u])
    if problem is not None:
        # A custom error: its message is the problem alone, without pydantic's "Value error, ".
        raise PydanticCustomError("weak_password", problem)
    return password


class UserChange(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    active: bool | None = None
    email: str | None = Field(
        default=None, description="Where notifications are e-mailed; empty removes it"
    )
    password: str | None = Field(
        default=None,
        description="At least 12 characters, not a common or breached password",
        repr=False,
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _email(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _allowed_password(value, info.data.get("display_name"))

    @field_validator("role")
    @classmethod
    def _role(cls, value: Role | None) -> Role | None:
        if value is not None and value not in STAFF_ROLES:
            raise ValueError(f"one of {', '.join(r.value for r in STAFF_ROLES)}")
        return value


class Workload(BaseModel):
    user_id: str
    display_name: str
    role: str
    open_tasks: int


def cases_holding(session: Session, user_id: str) -> list[str]:
    """Open cases the user owns or has an open task in (their new tasks would go to her). Work
    urgency moved from her to the supervisors is in the cases she owns: it was hers because
    she works the case."""
    with_tasks = select(TaskRow.case_id).where(
        col(TaskRow.assignee) == user_id, col(TaskRow.status) == TaskStatus.OPEN.value
    )
    return list(
        session.exec(
            select(CaseRow.case_id)
            .where(
                col(CaseRow.status) != CaseStatus.CLOSED.value,
                or_(col(CaseRow.owner) == user_id, col(CaseRow.case_id).in_(with_tasks)),
            )
            .order_by(col(CaseRow.case_id))
        )
    )


class UserService:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: str) -> UserRow:
        user = self._session.get(UserRow, user_id)
        if user is None:
            raise NotFound(f"no user '{user_id}'")
        return user

    def actor(self, user_id: str) -> Actor:
        user = self.get(user_id)
        if not user.active:
            raise NotFound(f"no active user '{user_id}'")
        return Actor(user_id=user.user_id, role=Role(user.role))

    def list(self) -> list[UserRow]:
        return list(self._session.exec(select(UserRow).order_by(col(UserRow.user_id))))

    def create(self, new: NewUser) -> UserRow:
        if self._session.get(UserRow, new.user_id) is not None:
            raise Conflict(f"user '{new.user_id}' already exists")
        user = UserRow(
            user_id=new.user_id,
            display_name=new.display_name,
            role=new.role.value,
            email=new.email,
            password_hash=hash_password(new.password),
            created_at=datetime.now(UTC),
        )
        self._session.add(user)
        self._session.commit()
        return user

    def change(self, user_id: str, change: UserChange, by: Actor) -> UserRow:
        user = self.get(user_id)
        # Losing the right to manage users locks the admin out of undoing it.
        demoted = change.role is not None and not allows(change.role, Permission.MANAGE_USERS)
        if user_id == by.user_id and (change.active is False or demoted):
            raise Invalid("an admin cannot deactivate or demote themselves")
        if change.display_name is not None:
            user.display_name = change.display_name
        if change.role is not None:
            user.role = change.role.value
        if change.active is not None:
            user.active = change.active
        if change.email is not None:
            user.email = change.email or None
        if change.password is not None:
            # The request knows neither the user id nor the name it keeps: judge with both.
            problem = password_problem(change.password, [user.user_id, user.display_name])
            if problem is not None:
                raise Invalid(f"password: {problem}")
            user.password_hash = hash_password(change.password)
        self._session.add(user)
        self._session.commit()
        return user

    def workload(self) -> list[Workload]:
        """Open tasks per active biller and supervisor, lightest first."""
        counts = dict(
            self._session.exec(
                select(TaskRow.assignee, func.count())
                .where(col(TaskRow.status) == TaskStatus.OPEN.value)
                .group_by(col(TaskRow.assignee))
            ).all()
        )
        users = self._session.exec(
            select(UserRow).where(
                col(UserRow.active),
                col(UserRow.role).in_(roles_allowed(Permission.WORK_TASKS)),
            )
        )
        loads = [
            Workload(
                user_id=u.user_id,
                display_name=u.display_name,
                role=u.role,
                open_tasks=counts.get(u.user_id, 0),
            )
            for u in users
        ]
        return sorted(loads, key=lambda load: (load.open_tasks, load.user_id))

    def ensure_demo_users(self) -> None:
        """Demo users, with the demo password: only ever called when started with demo data.
        The password policy (domain.sign_in.password_problem) is bypassed on purpose here:
        "demo" is published in the README, and these users exist only in demo mode."""
        demo_hash = _demo_password_hash()
        for user_id, name, role in DEMO_USERS:
            user = self._session.get(UserRow, user_id)
            if user is None:
                self._session.add(
                    UserRow(
                        user_id=user_id,
                        display_name=name,
                        role=role.value,
                        email=f"{user_id}@example.org",  # reserved: no real mailbox
                        password_hash=demo_hash,
                        created_at=datetime.now(UTC),
                    )
                )
            elif user.password_hash is None:
                user.password_hash = demo_hash
                self._session.add(user)
        self._session.commit()
