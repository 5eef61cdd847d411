"""`denials ingest FILE|DIR...` as a real subprocess against the test Temporal server and the
harness's read model: a folder's X12 files are ingested file by file (its other files are
skipped and listed), the summary table is printed, a file with errors makes the exit status 1
and is named, and the cases it opened exist."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from db import ingest_chunks
from db.models import AuditEventRow, IngestFileRow
from domain.case import CaseStatus
from domain.models import Category
from domain.rulebook import Rulebook
from tests.encrypted_env import TEST_PAYLOAD_KEYS
from tests.harness import CaseHarness
from tests.ingest_helpers import GARBAGE, case_ids_of, two_denials_835, wait_row

pytestmark = pytest.mark.e2e  # runs the `denials` command as a process

DENIALS = Path(sys.executable).with_name("denials")
TIMEOUT = 60.0


async def run_denials(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run the `denials` command without blocking the loop (the harness worker keeps running)."""
    process = await asyncio.create_subprocess_exec(
        str(DENIALS),
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def cli_env(harness: CaseHarness | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DENIALS_", "TEMPORAL_")) and key != "DATABASE_URL"
    }
    env |= {"COLUMNS": "200", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    if harness is not None:
        env |= {
            "TEMPORAL_ADDRESS": harness.client.service_client.config.target_host,
            "DENIALS_TASK_QUEUE": harness.task_queue,
            "DATABASE_URL": harness.engine.url.render_as_string(hide_password=False),
            "DENIALS_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
        }
    return env


def table_counts(stdout: str) -> dict[str, int]:
    """The rows of the 'Ingest summary' table: label -> count."""
    counts: dict[str, int] = {}
    for line in stdout.splitlines():
        match = re.fullmatch(r"\W*([a-z][a-z ]*[a-z])\W+(\d+)\W*", line.strip())
        if match:
            counts[match.group(1)] = int(match.group(2))
    return counts


async def test_ingest_folder_prints_the_summary_and_fails_on_the_bad_file(
    harness: CaseHarness, rulebook: Rulebook, tmp_path: Path
) -> None:
    """A folder with a two-denial 835, a scanned letter and a README: the 835 is stored and
    its two cases started, the other two are skipped and listed (issue 16: a README became a
    failed ingest). The letter named on its own is read, fails (exit status 1) and is named
    with its error."""
    remit = two_denials_835(await harness.today())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a-remit.835").write_bytes(remit)
    (inbox / "b-scan.txt").write_bytes(GARBAGE)
    (inbox / "README.md").write_text("Drop the payers' 835, 277CA and 999 files here.\n")

    status, out, err = await run_denials(
        "ingest", str(inbox), "--user", "nightly-job", env=cli_env(harness), cwd=tmp_path
    )
    assert status == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "skipped 2 file(s) that are not X12 (they do not start with ISA or ST):" in err
    assert f"  {inbox / 'README.md'}\n  {inbox / 'b-scan.txt'}\n" in err
    assert "Ingest summary" in out
    first = table_counts(out)
    assert (first["files"], first["cases started"], first["errors"]) == (1, 2, 0)
    assert "a-remit.835: file:" not in out
    # The implementation-guide check runs beside the ingest; the command waits for it.
    assert "a-remit.835: implementation guide done: 0 findings" in out

    status, out, err = await run_denials(
        "ingest",
        str(inbox / "b-scan.txt"),
        "--user",
        "nightly-job",
        env=cli_env(harness),
        cwd=tmp_path,
    )
    assert status == 1, f"stdout:\n{out}\nstderr:\n{err}"
    assert table_counts(out) == {
        "files": 1,
        "claims": 0,
        "denials": 0,
        "rejections": 0,
        "reversals": 0,
        "cases started": 0,
        "duplicates skipped": 0,
        "payer responses matched": 0,
        "late payments": 0,
        "errors": 1,
    }
    assert re.search(r"b-scan\.txt: file: not an X12 file", out), out

    case_ids = case_ids_of(remit, rulebook)
    rows = [await wait_row(harness, c, lambda r: r.status == "triaged") for c in case_ids]
    assert [(r.claim_id, r.category) for r in rows] == [
        ("PCNA1", Category.MISSING_INFORMATION.value),
        ("PCNA3", Category.MEDICAL_NECESSITY.value),
    ]
    for case_id in case_ids:
        state = await harness.wait_status(
            harness.client.get_workflow_handle(case_id), CaseStatus.TRIAGED
        )
        assert state.record.claim.payer.payer_id == "SHP01"
    with Session(harness.engine) as session:
        stored = session.exec(select(IngestFileRow).order_by(col(IngestFileRow.filename))).all()
        assert [
            (f.filename, f.status, f.received_by, ingest_chunks.whole(harness.engine, f.sha256))
            for f in stored
        ] == [
            ("a-remit.835", "ingested", "nightly-job", remit),
            ("b-scan.txt", "failed", "nightly-job", GARBAGE),
        ]
        audited = session.exec(
            select(AuditEventRow).where(AuditEventRow.action == "ingest.file")
        ).all()
        assert sorted((e.user_id, e.detail["file"]) for e in audited) == [
            ("nightly-job", "a-remit.835"),
            ("nightly-job", "b-scan.txt"),
        ]

    # The same folder again: nothing new starts, the 835's two denials are duplicates.
    status, out, err = await run_denials("ingest", str(inbox), env=cli_env(harness), cwd=tmp_path)
    assert status == 0, f"stdout:\n{out}\nstderr:\n{err}"
    again = table_counts(out)
    assert (again["cases started"], again["duplicates skipped"], again["errors"]) == (0, 2, 0)


async def test_ingest_missing_path_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    """A path that does not exist stops before anything is ingested (no Temporal needed)."""
    missing = tmp_path / "no-such-folder"
    status, out, err = await run_denials("ingest", str(missing), env=cli_env(), cwd=tmp_path)
    assert status == 2  # a usage error
    shown = " ".join((out + err).split())  # rich may wrap the message in a box
    assert "no such file or directory" in shown
    assert "no-such-folder" in shown
    assert "Traceback" not in out + err
    assert not (tmp_path / ".data").exists()  # no database was created either


async def test_a_bad_setting_names_the_variable_without_a_traceback(tmp_path: Path) -> None:
    env = {**cli_env(), "DENIALS_TIMEZONE": "Mars/Olympus", "DENIALS_DATA_DIR": str(tmp_path)}
    status, out, err = await run_denials("up", env=env, cwd=tmp_path)
    assert status == 2
    assert err.strip() == (
        "invalid setting DENIALS_TIMEZONE: unknown time zone 'Mars/Olympus': "
        "use an IANA name such as America/Los_Angeles"
    )
    assert "Traceback" not in out + err
