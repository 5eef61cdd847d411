"""`denials check FILE.837...`: findings per claim and line, JSON per file, the exit status
(1 when a claim is blocked, 2 when a file cannot be read), each run stored."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from db.claim_checks import ClaimCheckRunRow
from denials.cli import app
from domain.claim_checks.findings import ClaimUnderCheck
from testkit.claims837 import one_line_claim, write_claims_837


def _claim(number: int, **changes: object) -> ClaimUnderCheck:
    return one_line_claim(number, **changes)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DENIALS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    return CliRunner()


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    clean = tmp_path / "clean.837"
    clean.write_text(write_claims_837([_claim(1), _claim(2)]))
    blocked = tmp_path / "blocked.837"
    blocked.write_text(write_claims_837([_claim(3), _claim(4, frequency_code="7")]))
    broken = tmp_path / "broken.837"
    broken.write_text(write_claims_837([_claim(5)]).replace("SV1*HC:99213", "SV1*HC"))
    return clean, blocked, broken


def test_a_blocked_claim_is_printed_and_exits_1(
    runner: CliRunner, tmp_path: Path, sqlite_engine: Engine
) -> None:
    clean, blocked, _ = _files(tmp_path)
    result = runner.invoke(app, ["check", "--date", "2025-03-10", str(clean)])
    assert result.exit_code == 0, result.output
    assert "2 claims, 2 lines checked for 2025-03-10; 0 blocked" in result.output
    assert "no risk model trained yet" in result.output
    result = runner.invoke(app, ["check", "--date", "2025-03-10", str(blocked)])
    assert result.exit_code == 1, result.output
    assert "1 blocked" in result.output
    assert "PCN4" in result.output and "block" in result.output and "REF*F8" in result.output
    assert "PCN3" not in result.output  # a clean claim has no row
    with Session(sqlite_engine) as session:
        runs = session.exec(select(ClaimCheckRunRow)).all()
    assert sorted((run.claims, run.blocked, run.source) for run in runs) == [
        (2, 0, "cli"),
        (2, 1, "cli"),
    ]


def test_json_one_object_per_file_and_an_unreadable_file_exits_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    clean, blocked, broken = _files(tmp_path)
    result = runner.invoke(
        app, ["check", "--json", "--date", "2025-03-10", str(clean), str(broken), str(blocked)]
    )
    assert result.exit_code == 2, result.output
    first, error, last = (json.loads(line) for line in result.output.splitlines())
    assert (first["claims"], first["blocked"], first["model_version"]) == (2, 0, None)
    assert [r["claim_id"] for r in first["results"]] == ["PCN1", "PCN2"]
    assert error["file"] == str(broken) and "SV101" in error["error"] and "line" in error["error"]
    (replacement,) = [r for r in last["results"] if r["blocked"]]
    assert replacement["findings"][0]["code"] == "frequency.original_reference_missing"
    assert "checked_by" not in last
