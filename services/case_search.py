"""The case list's search: words matched anywhere in a case's search text (claim numbers,
patient name, member id, payer) or in its assignee's name, and date ranges. The conditions
join services.cases.case_conditions; saved filters are in services.saved_filters."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, union
from sqlmodel import Session, col, select

from db.case_search import CaseSearchRow
from db.models import CaseRow, UserRow
from domain.case_search import search_terms
from services.schemas import CaseFilters


def named_users(session: Session, filters: CaseFilters) -> dict[str, list[str]]:
    """For each word of the search, the users whose display name or id contains it (the
    users table is small). Looked up first so that the cases query names them as values:
    given `assignee IN (subquery)` or a join, SQLite's planner scanned the cases table."""
    named: dict[str, list[str]] = {}
    for term in search_terms(filters.q):
        found = session.exec(
            select(UserRow.user_id).where(
                or_(
                    func.lower(col(UserRow.display_name)).contains(term, autoescape=True),
                    func.lower(col(UserRow.user_id)).contains(term, autoescape=True),
                )
            )
        ).all()
        named[term] = sorted(found)
    return named


def _word(term: str, assignees: list[str]) -> ColumnElement[bool]:
    """One word, found in the case's search text (stored lower case, so the LIKE is case-blind
    on PostgreSQL too) or naming its assignee. Both yield case ids under one IN, so the
    database looks the cases up by key from the ids found: with an OR of two conditions
    SQLite's planner scanned the whole cases table, state documents and all."""
    ids = select(CaseSearchRow.case_id).where(
        col(CaseSearchRow.text).contains(term, autoescape=True)
    )
    if assignees:
        assigned = select(CaseRow.case_id).where(col(CaseRow.assignee).in_(assignees))
        return col(CaseRow.case_id).in_(union(ids, assigned))
    return col(CaseRow.case_id).in_(ids)


def search_conditions(
    filters: CaseFilters, named: dict[str, list[str]] | None = None
) -> list[ColumnElement[bool]]:
    """The search's conditions; `named` is named_users' answer (none: no assignee matches)."""
    named = named or {}
    conditions = [_word(term, named.get(term, [])) for term in search_terms(filters.q)]
    ranges = (
        (col(CaseRow.denied_on), filters.denied_from, filters.denied_to),
        (col(CaseRow.remittance_date), filters.remitted_from, filters.remitted_to),
        (col(CaseRow.next_deadline), filters.deadline_after, filters.deadline_before),
    )
    for column, start, end in ranges:
        if start is not None:
            conditions.append(column >= start)
        if end is not None:
            conditions.append(column <= end)
    return conditions
