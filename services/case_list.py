"""The case list's statements: filters, a bounded count, and pages by keyset (a cursor after
the last row shown) or, for older clients, by a bounded offset.

Every page is ordered by its sort key then the case id, so that ties keep one order and a
cursor (services.cursors) names exactly where a page ended. Each sort has an index leading
with its key and the case id (migration 0020), so a page reads about `limit` index entries
however deep it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Row, Select, func, tuple_
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from db.models import CaseRow
from domain.case import CaseStatus, EscalationLevel
from services.case_search import search_conditions
from services.cursors import Cursor, SortKey, decode_cursor, encode_cursor
from services.schemas import CASE_SORT_KEYS, CaseFilters, CaseSort, CaseSummary

# Lists are counted up to this many; the page then says "10,000+" (total_capped).
COUNT_BOUND = 10_000

SORT_COLUMNS = {
    CaseSort.PRIORITY: col(CaseRow.priority),
    CaseSort.DEADLINE: col(CaseRow.next_deadline),
    CaseSort.AMOUNT: col(CaseRow.denied_amount),
    CaseSort.AGE: col(CaseRow.created_at),
}
# What a list row shows: its columns alone, not the case's state document (kilobytes of JSON
# each) nor ORM objects, which cost more than the query on a page of 50.
SUMMARY_COLUMNS = [col(getattr(CaseRow, name)) for name in CaseSummary.model_fields]
PageStatement = Select[tuple[Any, ...]]
_SUMMARIES = TypeAdapter(list[CaseSummary])
_KEY_ATTRIBUTES = {
    CaseSort.PRIORITY: "priority",
    CaseSort.DEADLINE: "next_deadline",
    CaseSort.AMOUNT: "denied_amount",
    CaseSort.AGE: "created_at",
}


def case_conditions(
    filters: CaseFilters, named: dict[str, list[str]] | None = None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(col(CaseRow.status).in_(filters.status))
    if filters.open_only:
        conditions.append(col(CaseRow.status) != CaseStatus.CLOSED.value)
    if filters.category:
        conditions.append(col(CaseRow.category) == filters.category)
    if filters.payer_id:
        conditions.append(col(CaseRow.payer_id) == filters.payer_id)
    if filters.assignee:
        conditions.append(col(CaseRow.assignee) == filters.assignee)
    if filters.stalled is not None:
        conditions.append(col(CaseRow.stalled) == filters.stalled)
    if filters.escalated is not None:
        escalated = col(CaseRow.escalation) >= int(EscalationLevel.ESCALATED)
        conditions.append(escalated if filters.escalated else ~escalated)
    conditions.extend(search_conditions(filters, named))
    return conditions


def count_statement(conditions: Sequence[ColumnElement[bool]]) -> SelectOfScalar[int]:
    """How many match, counting no further than one past COUNT_BOUND."""
    matching = select(col(CaseRow.case_id)).where(*conditions).limit(COUNT_BOUND + 1).subquery()
    return select(func.count()).select_from(matching)


def bounded(total: int) -> tuple[int, bool]:
    """The total to show, and whether the list has more than that."""
    return min(total, COUNT_BOUND), total > COUNT_BOUND


@dataclass(frozen=True)
class _Run:
    """A stretch of the list in one index order: the deadline sort is two (cases with a
    deadline, then those without), so that neither needs NULLS LAST, which no index serves on
    SQLite and which makes OR conditions on PostgreSQL."""

    conditions: list[ColumnElement[bool]]
    key: ColumnElement[Any] | None  # None: the run is ordered by the case id alone
    descending: bool

    def ordering(self) -> list[UnaryExpression[Any]]:
        columns = [col(CaseRow.case_id)] if self.key is None else [self.key, col(CaseRow.case_id)]
        return [c.desc() if self.descending else c.asc() for c in columns]

    def beyond(self, key: SortKey, case_id: str) -> ColumnElement[bool]:
        """The rows after (key, case_id) in this run's order."""
        if self.key is None:
            row, bound = col(CaseRow.case_id), case_id
            return row < bound if self.descending else row > bound
        keys = tuple_(self.key, col(CaseRow.case_id))
        return keys < (key, case_id) if self.descending else keys > (key, case_id)


def _runs(sort: CaseSort, descending: bool) -> list[_Run]:
    """The list's runs in page order."""
    key = SORT_COLUMNS[sort]
    if sort is not CaseSort.DEADLINE:
        return [_Run([], key, descending)]
    return [_Run([key.is_not(None)], key, descending), _Run([key.is_(None)], None, descending)]


def _rows(ids: SelectOfScalar[str], ordering: list[UnaryExpression[Any]]) -> PageStatement:
    """The summary columns of the cases `ids` picks from an index (a page's worth), so that
    whole rows are read only for them."""
    return select(*SUMMARY_COLUMNS).where(col(CaseRow.case_id).in_(ids)).order_by(*ordering)


def keyset_statements(
    filters: CaseFilters, conditions: Sequence[ColumnElement[bool]], cursor: Cursor | None
) -> list[PageStatement]:
    """The statements that read a page of up to limit + 1 rows (the one more tells whether
    there is a page beyond), in the order to run them until that many are found: each reads
    the rows of one run. A cursor with `before` reads backwards (its rows come reversed)."""
    runs = _runs(filters.sort, filters.descending)
    backwards = cursor is not None and cursor.before
    if backwards:
        runs = [_Run(r.conditions, r.key, not r.descending) for r in reversed(runs)]
    start = 0
    bound: ColumnElement[bool] | None = None
    if cursor is not None:  # the cursor's row is in one run: start there, after it
        [key] = cursor.keys
        in_null_run = filters.sort is CaseSort.DEADLINE and key is None
        start = next(i for i, r in enumerate(runs) if (r.key is None) == in_null_run)
        bound = runs[start].beyond(key, cursor.id)
    statements = []
    for number, run in enumerate(runs[start:]):
        where = [*conditions, *run.conditions]
        if number == 0 and bound is not None:
            where.append(bound)
        ids = select(CaseRow.case_id).where(*where).order_by(*run.ordering())
        statements.append(_rows(ids.limit(filters.limit + 1), run.ordering()))
    return statements


def offset_statement(
    filters: CaseFilters, conditions: Sequence[ColumnElement[bool]]
) -> PageStatement:
    """The page `offset` rows in (bounded by CaseFilters), for clients that page by offset."""
    order = SORT_COLUMNS[filters.sort]
    if filters.descending:
        ordering = [order.desc(), col(CaseRow.case_id).desc()]
    else:
        ordering = [order.asc(), col(CaseRow.case_id).asc()]
    if filters.sort is CaseSort.DEADLINE:  # cases with no deadline sort last either way
        ordering[0] = ordering[0].nulls_last()
    ids = (
        select(CaseRow.case_id)
        .where(*conditions)
        .order_by(*ordering)
        .offset(filters.offset)
        .limit(filters.limit + 1)
    )
    return _rows(ids, ordering)


def page_statements(
    filters: CaseFilters, named: dict[str, list[str]] | None = None
) -> tuple[SelectOfScalar[int], list[PageStatement]]:
    """The bounded count, and the page's statements to run in turn until limit + 1 rows are
    found; `named`: the users each search word names (services.case_search.named_users)."""
    conditions = case_conditions(filters, named)
    if filters.offset:
        return count_statement(conditions), [offset_statement(filters, conditions)]
    cursor = decode_cursor(filters.cursor, CASE_SORT_KEYS) if filters.cursor else None
    return count_statement(conditions), keyset_statements(filters, conditions, cursor)


def summaries(rows: Sequence[Row[Any]]) -> list[CaseSummary]:
    """A page's rows as summaries, validated as dicts in one call: a third of the CPU of one
    model_validate per row from its attributes, the costliest step of a page (issue 20)."""
    if not rows:
        return []
    names = rows[0]._fields
    return _SUMMARIES.validate_python([dict(zip(names, row, strict=True)) for row in rows])


def cursor_at(filters: CaseFilters, row: Row[Any] | CaseRow, *, before: bool) -> str:
    key: SortKey = getattr(row, _KEY_ATTRIBUTES[filters.sort])
    return encode_cursor(
        Cursor(
            sort=filters.sort.value,
            descending=filters.descending,
            keys=(key,),
            id=row.case_id,
            before=before,
        )
    )
