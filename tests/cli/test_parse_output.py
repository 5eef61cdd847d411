"""What `denials parse --json` prints, byte for byte, and what the command loads to print it
(issue 20: the CLI within 1.3x of the parser in-process).

The expected output (tests/cli/data/parse_json.jsonl) was printed by the command before its
JSON was made faster; after an intended change of the output, print it again with
`UPDATE_PARSE_JSON=1 pytest tests/cli/test_parse_output.py` and read the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from denials.cli import app
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from edi.problems import Location, Problem, Severity

DATA = Path(__file__).resolve().parent / "data"
X12 = Path(__file__).resolve().parents[1] / "data" / "x12"
EXPECTED = DATA / "parse_json.jsonl"
# The samples (835, 277CA, 999, with errors and warnings) and a generated 835 of 300 claims
# (testkit.x12.random_remittance(300, seed=7): denials, reversals, service lines).
SAMPLES = [*sorted(p for p in X12.iterdir() if p.suffix != ".md"), DATA / "generated_300.835"]


@pytest.fixture
def samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files copied to a folder of their own, named relative to it (the `file` printed),
    with no DENIALS_* variable or .env changing the rulebook."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("DENIALS_"):
            monkeypatch.delenv(name)
    for path in SAMPLES:
        shutil.copy(path, tmp_path / path.name)
    return [path.name for path in SAMPLES]


def test_the_json_is_what_it_was(samples: list[str]) -> None:
    result = CliRunner().invoke(app, ["parse", "--json", *samples])
    assert result.exit_code == 0, result.output
    if os.environ.get("UPDATE_PARSE_JSON"):
        EXPECTED.write_bytes(result.stdout_bytes)
    expected = EXPECTED.read_bytes()
    assert result.stdout_bytes.count(b"\n") == len(samples)
    assert result.stdout_bytes == expected


# Not needed to print a file's JSON: the case model (with the deadlines' holiday calendar), the
# full settings, rich (the tables), pyx12 (--validate), the database and Temporal.
NOT_LOADED = [
    "app.settings",
    "domain.case",
    "holidays",
    "pyx12",
    "rich",
    "sqlalchemy",
    "temporalio",
]


def test_parse_json_loads_only_what_it_needs(samples: list[str]) -> None:
    """Each of these took hundreds of milliseconds to load, on every `denials parse`."""
    script = (
        "import sys\n"
        "from denials.cli import app\n"
        "try:\n"
        f"    app(['parse', '--json', {samples[0]!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {NOT_LOADED!r} if m in sys.modules), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines()[-1] == "[]", run.stderr


def test_the_json_is_what_json_dumps_writes(rulebook: Rulebook) -> None:
    """The cases are written as text (faster than json.dumps of their dicts): quotes,
    backslashes and non-ASCII letters in the file come out as json.dumps writes them."""
    raw = (DATA / "generated_300.835").read_bytes()
    raw = raw.replace(b"SYNTHETIC HEALTH PLAN", 'SYNTHÉTIC "HEALTH" \\ PLAN'.encode())
    parsed = parse_bytes("odd.835", raw, rulebook, validate_guide=False)
    assert parsed.ok and parsed.cases, parsed.errors
    finding = Problem(severity=Severity.WARNING, message="pyx12 said „so“", location=Location())
    text = parsed.summary_json([finding], implementation_guide_checked=True)
    read = json.loads(text)
    assert text == json.dumps(read)
    assert {case["payer_name"] for case in read["denials"]} == {'SYNTHÉTIC "HEALTH" \\ PLAN'}
    assert read["warnings"][-1]["message"] == "pyx12 said „so“"
    assert list(read)[-1] == "implementation_guide_checked" and read == parsed.summary() | {
        "warnings": read["warnings"],
        "implementation_guide_checked": True,
    }
