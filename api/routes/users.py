"""Users: admins manage accounts; supervisors see who carries how much work."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.errors import ERROR_RESPONSES
from app.deps import (
    AbsenceServiceDep,
    AuditDep,
    AuthDep,
    Supervisor,
    UserManager,
    UserServiceDep,
)
from services.user_admin import UserAdmin
from services.users import NewUser, UserChange, UserOut, Workload

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=ERROR_RESPONSES)


@router.get("")
def list_users(users: UserServiceDep, actor: UserManager) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in users.list()]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(
    new: NewUser,
    users: UserServiceDep,
    auth: AuthDep,
    actor: UserManager,
    audit: AuditDep,
    away: AbsenceServiceDep,
) -> UserOut:
    user = UserAdmin(users, auth, audit, away).create(new, actor)
    return UserOut.model_validate(user)


@router.patch("/{user_id}")
async def change_user(
    user_id: str,
    change: UserChange,
    users: UserServiceDep,
    auth: AuthDep,
    actor: UserManager,
    audit: AuditDep,
    away: AbsenceServiceDep,
) -> UserOut:
    """Rename, change role, (de)activate or reset a password; the last two sign the user out.
    Deactivating hands the user's open tasks back to their queues and her cases' ownership to
    the queue (in the background, each case audited)."""
    user = await UserAdmin(users, auth, audit, away).change(user_id, change, actor)
    return UserOut.model_validate(user)


@router.get("/workload")
def workload(users: UserServiceDep, actor: Supervisor) -> list[Workload]:
    """Open tasks per biller and supervisor, lightest first."""
    return users.workload()
