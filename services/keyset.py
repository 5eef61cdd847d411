"""Keyset conditions for lists ordered by several keys, each ascending or descending, the row
id last: "the rows after this one" without OFFSET (see services.cursors for the cursor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.sql.elements import UnaryExpression

# (expression, descending) from the first key to the row id.
Order = list[tuple[ColumnElement[Any], bool]]


def ordering(order: Order) -> list[UnaryExpression[Any]]:
    return [column.desc() if descending else column.asc() for column, descending in order]


def reverse(order: Order) -> Order:
    """The same order backwards (for the page before a row)."""
    return [(column, not descending) for column, descending in order]


def after_row(order: Order, values: Sequence[Any]) -> ColumnElement[bool]:
    """The rows after the one whose keys are `values`, in `order`: equal on the first keys
    and beyond it on the next, for each key in turn (keys that are never NULL)."""
    beyond = []
    for number, (column, descending) in enumerate(order):
        same = [c == value for (c, _), value in zip(order[:number], values, strict=False)]
        step = column < values[number] if descending else column > values[number]
        beyond.append(and_(*same, step))
    return or_(*beyond)
