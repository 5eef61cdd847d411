"""The case list's search: words matched anywhere in a case's search text (claim numbers,
patient name, member id, payer) or in its assignee's name, and date ranges. The conditions
join services.case_list.case_conditions; saved filters are in services.saved_filters."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from db.case_search import CaseSearchRow, word_candidates
from db.models import CaseRow, UserRow
from domain.case_search import search_terms
from services.schemas import CaseFilters

# Words the SQLite trigram index can serve: 3+ characters, none a GLOB or LIKE wildcard.
_INDEXED_WORD = re.compile(r"[^*?\[\]%_/]{3,}")


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
    on PostgreSQL too) or naming its assignee."""
    found = col(CaseSearchRow.text).contains(term, autoescape=True)
    if _INDEXED_WORD.fullmatch(term) and any(ch.isdigit() for ch in term):
        # A claim number, member id or their part: few cases hold it, and the trigram index
        # finds them (db.case_search.word_candidates). A name's word may be in thousands of
        # cases, which the index would hand over one by one: slower than the scan.
        found = and_(word_candidates(term), found)
    if not assignees:
        return found
    assigned = select(CaseRow.case_id).where(col(CaseRow.assignee).in_(assignees))
    return or_(found, col(CaseSearchRow.case_id).in_(assigned))


def search_conditions(
    filters: CaseFilters, named: dict[str, list[str]] | None = None
) -> list[ColumnElement[bool]]:
    """The search's conditions; `named` is named_users' answer (none: no assignee matches).
    All words are matched in one scan of case_search, whose ids the cases are then looked up
    by (one IN): an IN per word made common words ('health') each list most of the cases."""
    named = named or {}
    words = [_word(term, named.get(term, [])) for term in search_terms(filters.q)]
    conditions = []
    if words:
        matching = select(CaseSearchRow.case_id).where(*words)
        conditions.append(col(CaseRow.case_id).in_(matching))
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
