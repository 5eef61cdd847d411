"""pyx12's check for `denials parse --validate` runs in another process: its findings come in
the order of the files, and a process that dies leaves a warning saying so, not a hang."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from denials.cli import app
from denials.guide_check import GuideChecks
from edi.validation import validate
from testkit.x12 import build_file, random_remittance

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"
MANAGED_CARE = X12 / "lfh__managed-care.835"
BLUE_CROSS = X12 / "edi835p__blue_cross_nc_sample.835"


def test_findings_come_in_the_order_of_the_files(tmp_path: Path) -> None:
    missing = tmp_path / "gone.835"
    with GuideChecks([MANAGED_CARE, BLUE_CROSS, missing, MANAGED_CARE]) as checks:
        found = [checks.take() for _ in range(4)]
    managed = validate(MANAGED_CARE.read_bytes())
    assert managed
    assert found[0] == managed and found[3] == managed
    assert found[1] == []  # no envelope: pyx12 cannot read it, the parse says what it has
    [unread] = found[2]
    assert "validation could not run: the file cannot be read" in unread.message


def test_a_process_that_dies_leaves_a_warning(tmp_path: Path) -> None:
    large = tmp_path / "large.835"
    large.write_bytes(build_file(random_remittance(2_000, seed=3)))
    with GuideChecks([large, MANAGED_CARE]) as checks:
        checks._process.kill()  # as the kernel's OOM killer would
        first, second = checks.take(), checks.take()
    [lost] = first
    assert lost.message == (
        "implementation guide validation could not run: its process ended before this file "
        f"(exit status {-signal.SIGKILL}), killed: out of memory?"
    )
    assert second == first


def test_the_default_parse_starts_no_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the working folder

    def refuse(*args: object) -> None:
        raise AssertionError("pyx12 started on the default path")

    monkeypatch.setattr(GuideChecks, "__init__", refuse)
    result = CliRunner().invoke(app, ["parse", "--json", str(MANAGED_CARE)])
    assert result.exit_code == 0, result.output


def test_ctrl_c_is_the_parents_to_handle(tmp_path: Path) -> None:
    """The terminal sends SIGINT to the whole group: the child, even while it starts, ignores
    it (the parent ends it on its way out) and prints no traceback of its own."""
    with GuideChecks([MANAGED_CARE]) as checks:
        pid = checks._process.pid
        assert pid is not None
        os.kill(pid, signal.SIGINT)  # at once: the child is still starting its interpreter
        assert checks.take() == validate(MANAGED_CARE.read_bytes())
