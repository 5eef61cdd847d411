"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    """After `alembic upgrade head` autogenerate finds nothing to add, drop or change: a model
    changed without its migration (or the reverse) fails here, naming the difference."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
