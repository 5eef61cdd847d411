"""Prevention items: one open item per pattern, each case linked to exactly one item."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import PreventionCaseLink, PreventionTaskRow
from db.upsert import upsert


def prevention_task_id(pattern_key: str, first_case_id: str) -> str:
    digest = hashlib.sha256(f"{pattern_key}\n{first_case_id}".encode()).hexdigest()
    return f"PV-{digest[:12]}"


def link_case_to_prevention_task(
    session: Session,
    *,
    case_id: str,
    pattern_key: str,
    payer_id: str,
    payer_name: str,
    category: str | None,
    root_cause: str,
    owning_team: str,
    recommended_action: str,
    denied_amount: Decimal,
    outcome: str,
) -> str:
    """Link a closed case to its pattern's open prevention item (opening one if needed) and
    return the item's id. Running it again for the same case changes nothing."""
    existing = session.get(PreventionCaseLink, case_id)
    if existing is not None:
        return existing.prevention_task_id
    now = datetime.now(UTC)
    item = session.exec(
        select(PreventionTaskRow).where(
            PreventionTaskRow.pattern_key == pattern_key, PreventionTaskRow.status != "done"
        )
    ).first()
    if item is None:
        item = PreventionTaskRow(
            prevention_task_id=prevention_task_id(pattern_key, case_id),
            pattern_key=pattern_key,
            payer_id=payer_id,
            payer_name=payer_name,
            category=category,
            root_cause=root_cause,
            owning_team=owning_team,
            recommended_action=recommended_action,
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        session.flush()
    upsert(
        session,
        PreventionCaseLink.__table__,  # type: ignore[arg-type]
        [
            {
                "case_id": case_id,
                "prevention_task_id": item.prevention_task_id,
                "denied_amount": denied_amount,
                "outcome": outcome,
                "linked_at": now,
            }
        ],
        ["case_id"],
        update=False,
    )
    count, dollars = session.exec(
        select(func.count(), func.coalesce(func.sum(PreventionCaseLink.denied_amount), 0)).where(
            PreventionCaseLink.prevention_task_id == item.prevention_task_id
        )
    ).one()
    item.case_count = count
    item.dollars_at_stake = Decimal(dollars)
    item.updated_at = now
    session.add(item)
    return item.prevention_task_id


def cases_of_prevention_task(session: Session, prevention_task_id: str) -> list[str]:
    return list(
        session.exec(
            select(PreventionCaseLink.case_id)
            .where(PreventionCaseLink.prevention_task_id == prevention_task_id)
            .order_by(col(PreventionCaseLink.linked_at))
        )
    )
