"""A prevention item on the board, for the tests of prevention edits and claim checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from db.models import PreventionTaskRow


def add_prevention_item(
    session: Session, *, payer_id: str = "ACME", action: str = "Add GP", done: bool = False
) -> str:
    """Add an item (done three days ago with `done`) to the session, flushed; its id."""
    item_id = f"PV-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    session.add(
        PreventionTaskRow(
            prevention_task_id=item_id,
            pattern_key=f"test|{item_id}",
            payer_id=payer_id,
            root_cause="CO-4: modifier missing",
            owning_team="coding",
            recommended_action=action,
            status="done" if done else "open",
            created_at=now,
            updated_at=now,
            completed_at=now - timedelta(days=3) if done else None,
        )
    )
    session.flush()
    return item_id
