"""Users (read-only until the authentication issue adds management)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import ActorDep, UserServiceDep

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    display_name: str
    role: str
    active: bool


@router.get("")
def list_users(users: UserServiceDep, actor: ActorDep) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in users.list()]
