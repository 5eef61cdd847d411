"""Each user's own settings for working tasks (stored in the read model)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlmodel import Session

from db.work_management import UserPreferenceRow


class Preferences(BaseModel):
    # After completing a task, open the next one of My tasks (its form focused) instead of
    # staying on the case.
    continue_to_next_task: bool = False


class PreferenceService:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: str) -> Preferences:
        row = self._session.get(UserPreferenceRow, user_id)
        return Preferences(continue_to_next_task=bool(row and row.continue_to_next_task))

    def set(self, user_id: str, preferences: Preferences) -> Preferences:
        row = self._session.get(UserPreferenceRow, user_id) or UserPreferenceRow(
            user_id=user_id, updated_at=datetime.now(UTC)
        )
        row.continue_to_next_task = preferences.continue_to_next_task
        row.updated_at = datetime.now(UTC)
        self._session.add(row)
        self._session.commit()
        return self.get(user_id)
