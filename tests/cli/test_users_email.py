"""`denials users` and e-mail addresses for notifications, as real subprocesses: `create
--email` stores it (a malformed one refused before the password is asked), `set-email`
changes and removes it, an unknown user is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from db.engine import make_engine, migrate
from services.users import UserService
from tests.cli.test_first_use import STRONG, one_line, run
from tests.cli.test_ingest_cli import cli_env


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    return {
        **cli_env(),
        "DENIALS_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}",
    }


def emails(tmp_path: Path) -> dict[str, str | None]:
    engine = make_engine(f"sqlite:///{tmp_path / 'users.db'}")
    migrate(engine)
    with Session(engine) as session:
        found = {u.user_id: u.email for u in UserService(session).list()}
    engine.dispose()
    return found


def test_create_with_email_then_set_and_remove_it(user_env: dict[str, str], tmp_path: Path) -> None:
    def users(*args: str, stdin: str = "") -> tuple[int, str, str]:
        result, _ = run("users", *args, env=user_env, cwd=tmp_path, stdin=stdin)
        return result.returncode, result.stdout, one_line(result.stderr)

    code, out, err = users(
        "create", "jdoe", "--role", "biller", "--name", "J Doe", "--email", "jdoe@x"
    )
    assert code == 2 and "--email: an e-mail address such as name@example.org" in err
    assert "Password" not in out  # refused before any prompt

    code, out, err = users(
        "create",
        "jdoe",
        "--role",
        "biller",
        "--name",
        "J Doe",
        "--email",
        "jdoe@hospital.example",
        stdin=f"{STRONG}\n{STRONG}\n",
    )
    assert code == 0, err
    assert emails(tmp_path) == {"jdoe": "jdoe@hospital.example"}

    assert users("set-email", "jdoe", "j.doe@hospital.example")[0] == 0
    assert emails(tmp_path) == {"jdoe": "j.doe@hospital.example"}
    code, out, _ = users("set-email", "jdoe", "")
    assert code == 0 and out.strip() == "jdoe: no e-mail"
    assert emails(tmp_path) == {"jdoe": None}
    code, _, err = users("set-email", "nobody", "n@hospital.example")
    assert code == 2 and "no user 'nobody'" in err
