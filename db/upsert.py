"""INSERT ... ON CONFLICT for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    update: bool = True,
    version_column: str | None = None,
) -> None:
    """Insert rows; on a key conflict update the other columns, or leave the existing row
    alone when `update` is False. With `version_column`, only a higher version overwrites.
    Every row must name the same columns (they are bound to one statement)."""
    if not rows:
        return
    columns = tuple(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError(f"upsert into {table.name}: rows name different columns")
    statement = _statement(
        session.get_bind().dialect.name, table, columns, tuple(key), update, version_column
    )
    session.execute(statement, list(rows))


@lru_cache(maxsize=64)
def _statement(
    dialect: str,
    table: Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    update: bool,
    version_column: str | None,
) -> Insert:
    # One statement object per shape, executed with the rows as parameters, so SQLAlchemy
    # compiles it once instead of once per write (the projection writes on every case step).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    if not update:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={c: statement.excluded[c] for c in columns if c not in key},
        where=(
            table.c[version_column] < statement.excluded[version_column] if version_column else None
        ),
    )
