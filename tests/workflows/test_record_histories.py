"""The README's command for recording histories runs as written (issue 16, item 5): it names
what is missing when run bare, records a scenario whose history replays, and never overwrites a
version already recorded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.test_replay import load_history
from workflows.case_workflow import DenialCaseWorkflow

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "tests.workflows.record_histories"]


def record(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_run_bare_it_says_what_it_needs() -> None:
    bare = record()
    assert bare.returncode == 2
    assert "usage: python -m tests.workflows.record_histories" in bare.stderr
    assert "the following arguments are required: version" in bare.stderr
    unknown = record("v9-test", "no_such_scenario")
    assert unknown.returncode == 2
    assert "no scenario no_such_scenario: choose from appeal_chain," in unknown.stderr


async def test_a_recorded_history_replays_and_is_never_overwritten(tmp_path: Path) -> None:
    made = record("v99-test", "rejection_resubmitted", "--out", str(tmp_path))
    assert made.returncode == 0, made.stderr
    path = tmp_path / "rejection_resubmitted.v99-test.json"
    assert f"recorded {path.name}" in made.stdout
    result = await Replayer(
        workflows=[DenialCaseWorkflow], data_converter=pydantic_data_converter
    ).replay_workflow(load_history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None

    recorded = path.read_bytes()
    again = record("v99-test", "rejection_resubmitted", "--out", str(tmp_path))
    assert again.returncode == 2
    assert f"already recorded, not overwritten: {path.name}" in again.stderr
    assert path.read_bytes() == recorded
