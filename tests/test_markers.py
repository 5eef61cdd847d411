"""The markers a contributor selects parts of the suite with (issue 16, item 10) land on the
tests that use what they name, and only there (tests/markers.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSER = "tests/web/test_csp_browser.py"
UNIT = "tests/domain/test_audit_detail.py"
BOTH_DATABASES = "tests/db/test_auth_audit_store.py"
PROCESSES = "tests/cli/test_up_ports.py"
IN_PROCESS_CLI = "tests/cli/test_parse_cli.py"
MARKERS = {"browser", "postgres", "e2e", "slow"}
# Collected once in a pytest of its own, which writes each test's markers out.
REPORTER = """
import json, os
def pytest_collection_finish(session):
    with open(os.environ["MARKERS_OUT"], "w") as out:
        json.dump({i.nodeid: sorted(m.name for m in i.iter_markers()) for i in session.items}, out)
"""


def test_markers_land_on_the_tests_that_use_what_they_name(tmp_path: Path) -> None:
    (tmp_path / "report_markers.py").write_text(REPORTER)
    out = tmp_path / "markers.json"
    files = [BROWSER, UNIT, BOTH_DATABASES, PROCESSES, IN_PROCESS_CLI]
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MARKERS_OUT": str(out)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "report_markers", *files],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    marked: dict[str, set[str]] = {}
    for test_id, names in json.loads(out.read_text()).items():
        path = test_id.split("::")[0]
        if path == BOTH_DATABASES:
            path += "[postgresql]" if "[postgresql" in test_id else "[sqlite]"
        marked.setdefault(path, set()).update(MARKERS & set(names))
    assert marked == {
        BROWSER: {"browser", "e2e", "slow"},  # Chromium against `denials up`
        UNIT: set(),
        f"{BOTH_DATABASES}[postgresql]": {"postgres"},
        f"{BOTH_DATABASES}[sqlite]": set(),
        PROCESSES: {"e2e", "slow"},
        IN_PROCESS_CLI: set(),
    }
