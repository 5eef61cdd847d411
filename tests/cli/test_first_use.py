"""What a new user meets first, as real `denials` subprocesses (issue 16, item 5): ingest with
no Temporal server says what to do within seconds, `users create` refuses a bad role, id or
duplicate before asking for a password and checks the password before asking for it again,
and `keys new` prints a payload key entry."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session

from app.encryption import KEY_BYTES, Keyring
from db.engine import make_engine, migrate
from denials.cli import StaffRole
from denials.reachability import ANSWER_SECONDS
from services.users import STAFF_ROLES, UserService
from testkit.processes import DENIALS, free_port
from tests.cli.test_ingest_cli import cli_env

pytestmark = pytest.mark.e2e  # runs the `denials` command as a process

X12 = Path(__file__).resolve().parents[1] / "data" / "x12" / "affect__nevada_medicaid.835"
# What the check may add to the command's own start (Python, its imports, the settings), which
# a busy machine stretches: the start is measured in the same test (`denials --help`). On an
# idle machine the answer comes in about a second; the client's own error took 6-10 s.
CHECK_SECONDS = 1.0
STRONG = "glacier-Mosaic-orbit-41-tundra"


def run(
    *args: str, env: dict[str, str], cwd: Path, stdin: str = ""
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [DENIALS, *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60
    )
    return result, time.monotonic() - started


def one_line(text: str) -> str:
    """Rich boxes and wraps messages at 80 columns: compare words only."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**cli_env(), "DENIALS_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def startup(env: dict[str, str], tmp_path: Path) -> float:
    """Seconds `denials` takes to start and answer --help, now: the baseline."""
    return min(run("--help", env=env, cwd=tmp_path)[1] for _ in range(2))


# --- ingest without Temporal ---------------------------------------------------------------


def test_ingest_with_no_temporal_server_says_to_start_one_at_once(
    env: dict[str, str], tmp_path: Path, startup: float
) -> None:
    port = free_port()  # nothing listens there
    result, took = run(
        "ingest", str(X12), env={**env, "DENIALS_TEMPORAL_PORT": str(port)}, cwd=tmp_path
    )
    assert result.returncode == 2, result
    said = one_line(result.stderr)
    assert f"cannot reach Temporal at 127.0.0.1:{port}: nothing listens there" in said
    assert "start the case manager with `make run`" in said and "set TEMPORAL_ADDRESS" in said
    assert "tonic" not in result.stdout + result.stderr and "Traceback" not in said
    assert took < startup + CHECK_SECONDS, f"answered after {took:.1f}s, --help {startup:.1f}s"
    assert not (tmp_path / "data").exists()  # nothing read or stored: no database either


def test_a_temporal_address_nothing_answers_at_is_named_with_its_setting(
    env: dict[str, str], tmp_path: Path, startup: float
) -> None:
    address = f"127.0.0.1:{free_port()}"
    result, took = run("ingest", str(X12), env={**env, "TEMPORAL_ADDRESS": address}, cwd=tmp_path)
    assert result.returncode == 2, result
    said = one_line(result.stderr)
    assert f"cannot reach Temporal at {address} (TEMPORAL_ADDRESS): nothing listens there" in said
    assert "unset TEMPORAL_ADDRESS to use the server that `make run`" in said
    assert took < startup + CHECK_SECONDS, f"answered after {took:.1f}s, --help {startup:.1f}s"


def test_a_listener_that_is_not_temporal_is_told_apart(
    env: dict[str, str], tmp_path: Path, startup: float
) -> None:
    """Something accepts connections on the port but never answers (another program): the
    check waits 1.5 s for a Temporal answer (after importing the client), not the client's
    10 s of retries."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        result, took = run(
            "ingest", str(X12), env={**env, "TEMPORAL_ADDRESS": address}, cwd=tmp_path
        )
    assert result.returncode == 2, result
    said = one_line(result.stderr)
    assert f"cannot reach Temporal at {address} (TEMPORAL_ADDRESS)" in said
    assert "a server listens there but did not answer as Temporal in 1.5s" in said
    limit = startup + ANSWER_SECONDS + 2 * CHECK_SECONDS
    assert took < limit, f"answered after {took:.1f}s, --help {startup:.1f}s"


def test_a_malformed_temporal_address_is_named(env: dict[str, str], tmp_path: Path) -> None:
    result, _ = run("ingest", str(X12), env={**env, "TEMPORAL_ADDRESS": "temporal"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "'temporal' is not host:port (e.g. 127.0.0.1:7233)" in one_line(result.stderr)


def test_a_folder_without_x12_files_ingests_nothing_and_needs_no_server(
    env: dict[str, str], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "README.md").write_text("# what this folder is for\n")
    result, _ = run(
        "ingest", str(inbox), env={**env, "DENIALS_TEMPORAL_PORT": str(free_port())}, cwd=tmp_path
    )
    assert result.returncode == 0, result
    assert "skipped 1 file(s) that are not X12" in result.stderr
    assert str(inbox / "README.md") in result.stderr
    assert result.stdout.strip() == "no X12 file to ingest"


def test_parse_of_a_folder_reads_its_x12_files_only(env: dict[str, str], tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "remit.835").write_bytes(X12.read_bytes())
    (inbox / "README.md").write_text("# what this folder is for\n")
    result, _ = run("parse", str(inbox), "--json", "--no-validate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result
    [parsed] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (parsed["file"], parsed["kind"]) == (str(inbox / "remit.835"), "835")
    assert result.stderr.splitlines() == [
        "skipped 1 file(s) that are not X12 (they do not start with ISA or ST):",
        f"  {inbox / 'README.md'}",
    ]


# --- users create ----------------------------------------------------------------------------


@pytest.fixture
def user_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}"}


def stored_users(tmp_path: Path) -> dict[str, tuple[str, str]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.db'}")
    migrate(engine)
    with Session(engine) as session:
        users = {u.user_id: (u.role, u.password_hash) for u in UserService(session).list()}
    engine.dispose()
    return users


def test_parse_validate_checks_in_another_process(env: dict[str, str], tmp_path: Path) -> None:
    """The console script starts pyx12's process (a fresh interpreter) and prints its findings
    in the file's object; by default the file's object says it was not checked."""
    managed_care = X12.with_name("lfh__managed-care.835")
    objects = []
    for options in ((), ("--validate",)):
        result, _ = run("parse", "--json", *options, str(managed_care), env=env, cwd=tmp_path)
        assert result.returncode == 0, result
        [parsed] = [json.loads(line) for line in result.stdout.splitlines()]
        objects.append(parsed)
    plain, checked = objects
    assert (plain["implementation_guide_checked"], checked["implementation_guide_checked"]) == (
        False,
        True,
    )
    guide = [w for w in checked["warnings"] if w["message"].startswith("implementation guide")]
    assert guide and checked["warnings"] == plain["warnings"] + guide


def test_users_create_offers_the_staff_roles_only(user_env: dict[str, str], tmp_path: Path) -> None:
    assert {role.value for role in StaffRole} == {role.value for role in STAFF_ROLES}
    shown, _ = run("users", "create", "--help", env={**user_env, "COLUMNS": "200"}, cwd=tmp_path)
    assert "<biller|supervisor|admin|physician>" in shown.stdout
    result, _ = run(
        "users", "create", "jdoe", "--role", "system", "--name", "J Doe", env=user_env, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "'system' is not one of 'biller', 'supervisor', 'admin', 'physician'" in one_line(
        result.stderr
    )
    assert "Password" not in result.stdout  # refused before any prompt


@pytest.mark.parametrize(
    ("user_id", "name", "said"),
    [
        ("J Doe", "J Doe", "user id: 2-80 lower-case letters, digits, '.', '_' or '-'"),
        ("jdoe", "", "--name: String should have at least 1 character"),
    ],
)
def test_users_create_refuses_a_bad_id_or_name_before_the_password(
    user_env: dict[str, str], tmp_path: Path, user_id: str, name: str, said: str
) -> None:
    result, _ = run(
        "users", "create", user_id, "--role", "admin", "--name", name, env=user_env, cwd=tmp_path
    )
    assert result.returncode == 2
    assert said in one_line(result.stderr)
    assert "Password" not in result.stdout


def test_users_create_checks_the_password_before_asking_it_again(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    """A weak password is refused at once, saying why; the next one is asked twice; then the
    same id again is refused before any prompt."""
    typed = f"password1234\n{STRONG}\n{STRONG}\n"
    result, _ = run(
        "users",
        "create",
        "jdoe",
        "--role",
        "supervisor",
        "--name",
        "J Doe",
        env=user_env,
        cwd=tmp_path,
        stdin=typed,
    )
    assert result.returncode == 0, result
    assert "password refused: this is a common password from breach lists" in result.stderr
    assert result.stdout.count("Password:") == 2
    assert result.stdout.count("Repeat the password:") == 1
    assert result.stdout.strip().endswith("created supervisor jdoe")
    role, password_hash = stored_users(tmp_path)["jdoe"]
    assert role == "supervisor" and PasswordHasher().verify(password_hash, STRONG)

    again, _ = run(
        "users",
        "create",
        "jdoe",
        "--role",
        "admin",
        "--name",
        "Other",
        env=user_env,
        cwd=tmp_path,
        stdin=typed,
    )
    assert again.returncode == 2
    assert "user 'jdoe' already exists" in one_line(again.stderr)
    assert "Password" not in again.stdout


def test_users_create_gives_up_after_three_tries(user_env: dict[str, str], tmp_path: Path) -> None:
    typed = f"short\n{STRONG}\n{STRONG}-typo\n{STRONG}\n{STRONG}x\n"
    result, _ = run(
        "users",
        "create",
        "kim",
        "--role",
        "biller",
        "--name",
        "Kim Lee",
        env=user_env,
        cwd=tmp_path,
        stdin=typed,
    )
    assert result.returncode == 2
    assert "password refused: use at least 12 characters" in result.stderr
    assert result.stderr.count("the two passwords differ") == 2
    assert "no password set after 3 tries: nothing was created" in one_line(result.stderr)
    assert "kim" not in stored_users(tmp_path)


# --- keys new --------------------------------------------------------------------------------


def test_keys_new_prints_an_entry_for_the_payload_keys(env: dict[str, str], tmp_path: Path) -> None:
    first, _ = run("keys", "new", "--id", "k2", env=env, cwd=tmp_path)
    second, _ = run("keys", "new", env=env, cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    entry = first.stdout.strip()
    assert entry.startswith("k2:") and "\n" not in entry  # `$(denials keys new)` takes it whole
    encoded = entry.partition(":")[2]
    assert len(base64.b64decode(encoded, validate=True)) == KEY_BYTES
    assert "DENIALS_PAYLOAD_KEYS" in first.stderr
    default_id = second.stdout.strip().partition(":")[0]
    assert default_id.startswith("k20") and len(default_id) == 9  # k + the date
    both = Keyring.parse(f"{entry},{second.stdout.strip()}", source="test")
    assert both.current_id == "k2" and both.keys["k2"] != both.keys[default_id]

    bad, _ = run("keys", "new", "--id", "no spaces", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "key id 'no spaces': use 1-64 letters, digits" in one_line(bad.stderr)
