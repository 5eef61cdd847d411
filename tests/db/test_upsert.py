"""Versioned upserts on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db.upsert import upsert


@pytest.fixture
def table(engine: Engine) -> Iterator[Table]:
    table = Table(
        f"upsert_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("key", String, primary_key=True),
        Column("version", Integer, nullable=False),
        Column("value", String, nullable=False),
    )
    table.create(engine)
    yield table
    table.drop(engine)


def row(key: str, version: int, value: str) -> dict[str, object]:
    return {"key": key, "version": version, "value": value}


def rows_of(engine: Engine, table: Table) -> dict[str, tuple[int, str]]:
    with Session(engine) as session:
        return {key: (version, value) for key, version, value in session.execute(select(table))}


def test_only_a_higher_version_overwrites(engine: Engine, table: Table) -> None:
    with Session(engine) as session, session.begin():
        upsert(
            session,
            table,
            [row("a", 2, "a2"), row("b", 1, "b1")],
            ["key"],
            version_column="version",
        )
    with Session(engine) as session, session.begin():
        upsert(
            session,
            table,
            [row("a", 1, "stale"), row("b", 3, "b3")],
            ["key"],
            version_column="version",
        )
    assert rows_of(engine, table) == {"a": (2, "a2"), "b": (3, "b3")}


def test_insert_only_leaves_existing_rows_alone(engine: Engine, table: Table) -> None:
    for value in ("first", "second"):
        with Session(engine) as session, session.begin():
            upsert(session, table, [row("a", 1, value)], ["key"], update=False)
    assert rows_of(engine, table) == {"a": (1, "first")}


def test_rows_naming_different_columns_are_refused_before_writing(
    engine: Engine, table: Table
) -> None:
    with (
        Session(engine) as session,
        session.begin(),
        pytest.raises(ValueError, match=f"upsert into {table.name}: rows name different"),
    ):
        upsert(session, table, [row("a", 1, "a"), {"key": "b", "version": 1}], ["key"])
    assert rows_of(engine, table) == {}
