"""Account changes as admins make them, through the API or the admin pages alike: saved,
audited, the user signed out when deactivated or given a new password, and a deactivated
user's open work handed back."""

from __future__ import annotations

from db.models import UserRow
from domain.case import Actor
from services.absences import AbsenceService
from services.audit import AuditService
from services.auth import AuthService
from services.users import NewUser, UserChange, UserService


class UserAdmin:
    def __init__(
        self, users: UserService, auth: AuthService, audit: AuditService, away: AbsenceService
    ) -> None:
        self._users = users
        self._auth = auth
        self._audit = audit
        self._away = away

    def create(self, new: NewUser, actor: Actor) -> UserRow:
        user = self._users.create(new)
        self._audit.record(actor, "user.create", target=new.user_id, role=new.role.value)
        return user

    async def change(self, user_id: str, change: UserChange, actor: Actor) -> UserRow:
        """Rename, change role or e-mail, (de)activate or reset the password; the last two
        sign the user out everywhere. Deactivating hands the user's open tasks back to their
        queues and her cases' ownership to the queue (in the background, each case audited)."""
        user = self._users.change(user_id, change, by=actor)
        if change.active is False or change.password is not None:
            self._auth.close_all_of(user_id)
        self._audit.record(
            actor,
            "user.change",
            target=user_id,
            fields=",".join(sorted(change.model_dump(exclude_none=True))),
        )
        if change.active is False:  # again when asked again: handing back is idempotent
            await self._away.hand_back_all(user_id, actor)
        return user
