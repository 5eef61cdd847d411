"""Database engine and schema migrations (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine whose errors never quote the statement's parameters (they carry PHI, and an
    activity's error is logged and stored in the case's history). The product passes
    `Settings.database_pool` (sized from the worker's activity threads); SQLite has no pool."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=10, hide_parameters=True
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
        # WAL lets the API read while the worker's activities write.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config interpolates '%': a password or socket path may well hold one.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (safe to run at every start)."""
    command.upgrade(alembic_config(engine), "head")


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this version of the app was written for."""


def check_schema(engine: Engine) -> None:
    """Refuse to run on a schema other than this version's latest migration: a process told not
    to migrate (a cluster's worker or API) must not write to tables it does not know."""
    expected = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == expected:
        return
    where = f"at {', '.join(sorted(current))}" if current else "empty (no schema yet)"
    raise SchemaNotCurrent(
        f"the database schema is {where}, this version needs {', '.join(sorted(expected))}: "
        "run 'denials migrate' with this version first"
    )
