"""How pages name what they mention: a case by its claim number, a task by its type, and the
short lists pages show that no service owns (cases waiting for an attestation)."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from db.models import CaseRow, TaskRow


def claim_numbers(session: Session, case_ids: Collection[str]) -> dict[str, str]:
    """case id -> claim number, for the cases that exist."""
    if not case_ids:
        return {}
    query = select(CaseRow.case_id, CaseRow.claim_id).where(col(CaseRow.case_id).in_(case_ids))
    return dict(session.exec(query).all())


def task_types(session: Session, task_ids: Collection[str]) -> dict[str, str]:
    """task id -> task type, for the tasks that exist."""
    if not task_ids:
        return {}
    query = select(TaskRow.task_id, TaskRow.type).where(col(TaskRow.task_id).in_(task_ids))
    return dict(session.exec(query).all())


def open_cases_in_categories(
    session: Session, categories: Collection[str], closed_status: str, limit: int
) -> list[CaseRow]:
    """Open cases of these categories, soonest deadline first."""
    return list(
        session.exec(
            select(CaseRow)
            .where(col(CaseRow.category).in_(categories), col(CaseRow.status) != closed_status)
            .order_by(col(CaseRow.next_deadline).nulls_last(), col(CaseRow.case_id))
            .limit(limit)
        ).all()
    )
