"""A scratch PostgreSQL database for the benchmarks that measure both databases: created on
the local server, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import Engine

from db.engine import make_engine

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def scratch_postgres() -> Iterator[Engine]:
    name = f"denials_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(f"{POSTGRES_BASE}/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
