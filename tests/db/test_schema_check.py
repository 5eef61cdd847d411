"""DENIALS_MIGRATE_ON_START=false (issue 16, item 8): a process that must not migrate checks the
schema is this version's and refuses, saying what to run, on an empty or older one."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.settings import Settings
from db.engine import SchemaNotCurrent, alembic_config, check_schema, make_engine
from denials.bootstrap import prepare_database


def test_an_empty_database_is_refused_and_left_empty(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, migrate_on_start=False)
    with pytest.raises(SchemaNotCurrent) as refused:
        prepare_database(settings)
    assert str(refused.value).startswith("the database schema is empty (no schema yet), this")
    assert str(refused.value).endswith("run 'denials migrate' with this version first")
    engine = make_engine(settings.effective_database_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_an_older_schema_is_refused_until_migrated(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, migrate_on_start=False)
    engine = make_engine(settings.effective_database_url)
    config = alembic_config(engine)
    [head] = ScriptDirectory.from_config(config).get_heads()
    command.upgrade(config, "0002")
    with pytest.raises(SchemaNotCurrent, match=f"is at 0002, this version needs {head}: run"):
        check_schema(engine)
    prepare_database(settings, migrate_schema=True).dispose()  # what `denials migrate` does
    check_schema(engine)
    prepare_database(settings).dispose()  # now starts without migrating
    engine.dispose()


def test_unset_every_start_migrates_as_before(tmp_path: Path) -> None:
    engine = prepare_database(Settings(data_dir=tmp_path))
    check_schema(engine)
    engine.dispose()
