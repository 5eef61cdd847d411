"""Fixtures of the database tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from db.engine import make_engine
from tests.postgres_server import scratch_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, not migrated yet (a migration test takes it to the revision it
    needs)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    admin_url = request.getfixturevalue("postgres_admin")
    with scratch_database(admin_url, "denials_migration") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()
