"""A stored file's implementation-guide check (pyx12), run beside its ingest in a child process.

pyx12 takes about nine tenths of a whole parse and keeps a tree of every finding in memory, so
an ingest no longer waits for it: cases start from our own parser's reading (services.ingest),
and this check runs meanwhile in a child process, one at a time per parent process. The child
reads the file from the database itself (its bytes never pass through the parent) and dies with
its parent: it watches its stdin, which only the parent holds open. Its findings are stored in
the file's `validation` column when done (the report, the API and the pages show them).

A run holds a lease on the file's validation (validation_owner, validation_until), renewed while
it runs as the ingest's is (services.ingest_leases). A process killed mid-run renews nothing:
once the lease is past, resume_abandoned() runs it again (at the next start, or on resume), at
most MAX_ATTEMPTS times in all; after that it is marked interrupted and says so.

    python -m services.ingest_validation   (the child: a JSON request line on stdin)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import col

from db import ingest_chunks
from db.models import IngestFileRow
from services import ingest_leases as leases
from services.ingest_report import PROBLEM_LIMIT

MAX_ATTEMPTS = 2
STDERR_KEPT = 2000  # characters of a failed child's last words kept in its message
ROOT = Path(__file__).resolve().parent.parent
# The child yields the CPU to requests and case starts (two cores here): it only informs.
CHILD_NICENESS = 10
log = logging.getLogger(__name__)

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_running: set[asyncio.Task[None]] = set()


class ChildFailed(Exception):
    """The child process ended without findings (killed, out of memory, or an error)."""


def begin(engine: Engine, sha256: str) -> str | None:
    """Mark the file's check pending and take its lease; the owner id, or None when the file
    has had a check already (a file ingested again to finish is not checked twice)."""
    owner = leases.new_owner()
    with engine.begin() as connection:
        taken = connection.execute(
            update(IngestFileRow)
            .where(col(IngestFileRow.sha256) == sha256, col(IngestFileRow.validation).is_(None))
            .values(
                validation={"status": "pending", "attempts": 0},
                validation_owner=owner,
                validation_until=leases.until(),
            )
        ).rowcount
    return owner if taken == 1 else None


def start(engine: Engine, sha256: str, owner: str) -> asyncio.Task[None]:
    """Run the check in the background of this process (kept referenced until it ends)."""
    task = asyncio.create_task(_run(engine, sha256, owner), name="ingest-validation")
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


def busy() -> bool:
    """Whether this process runs or waits to run a check."""
    return bool(_running)


async def settle() -> None:
    """Wait for every check this process runs (the CLI waits, then prints their findings)."""
    await asyncio.gather(*list(_running), return_exceptions=True)


async def stop() -> None:
    """Cancel the checks this process runs (shutdown): their children are killed and their
    leases let go, so the next start runs them again."""
    for task in list(_running):
        task.cancel()
    await asyncio.gather(*list(_running), return_exceptions=True)


async def resume_abandoned(engine: Engine) -> list[str]:
    """Start again each check whose lease is free or past (its process stopped or was
    killed), claimed first so that concurrent resumers take it once; the files started."""
    claimed = await asyncio.to_thread(_claim_abandoned, engine)
    for sha256, owner in claimed:
        start(engine, sha256, owner)
    return [sha256 for sha256, _ in claimed]


def _claim_abandoned(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(IngestFileRow.sha256, IngestFileRow.validation_owner).where(
                col(IngestFileRow.validation_owner).is_not(None), _free()
            )
        ).all()
    claimed = []
    for sha256, previous in rows:
        owner = leases.new_owner()
        with engine.begin() as connection:
            taken = connection.execute(
                update(IngestFileRow)
                .where(
                    col(IngestFileRow.sha256) == sha256,
                    col(IngestFileRow.validation_owner) == previous,
                    _free(),
                )
                .values(validation_owner=owner, validation_until=leases.until())
            ).rowcount
        if taken == 1:
            claimed.append((sha256, owner))
    return claimed


def _free() -> Any:
    return or_(
        col(IngestFileRow.validation_until).is_(None),
        col(IngestFileRow.validation_until) < leases.DbTime(),
    )


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = asyncio.Semaphore(1)
    return _gates[loop]


def _write(engine: Engine, sha256: str, owner: str, **values: Any) -> dict[str, Any] | None:
    """Update the check's row if this run still holds it; its validation state, or None when
    another run took it over."""
    with engine.begin() as connection:
        state = connection.execute(
            select(IngestFileRow.validation).where(
                col(IngestFileRow.sha256) == sha256,
                col(IngestFileRow.validation_owner) == owner,
            )
        ).scalar_one_or_none()
        if state is None or not values:
            return state
        if "validation" in values:
            state = {**state, **values["validation"]}
            values["validation"] = state
        connection.execute(
            update(IngestFileRow)
            .where(
                col(IngestFileRow.sha256) == sha256, col(IngestFileRow.validation_owner) == owner
            )
            .values(**values)
        )
    return dict(state)


async def _run(engine: Engine, sha256: str, owner: str) -> None:
    """The check, once this process's turn comes; its lease renewed meanwhile."""
    renewing = asyncio.create_task(_renew(engine, sha256, owner))
    try:
        async with _gate():
            await _check(engine, sha256, owner)
    except asyncio.CancelledError:
        # Shutdown: the lease let go now, the next start runs the check again.
        await asyncio.to_thread(_let_go, engine, sha256, owner)
        raise
    except Exception as exc:  # nobody awaits this task: say it (the type only: no PHI)
        # Its lease runs out and a resumer runs the check again.
        log.warning("an implementation-guide check stopped: %s", type(exc).__name__)
    finally:
        renewing.cancel()


async def _check(engine: Engine, sha256: str, owner: str) -> None:
    state = await asyncio.to_thread(_write, engine, sha256, owner)
    if state is None:
        return  # taken over by another process while it waited its turn
    attempts = int(state.get("attempts", 0)) + 1
    if attempts > MAX_ATTEMPTS:
        message = (
            f"the implementation-guide check was stopped {MAX_ATTEMPTS} times with its process "
            "(killed, or out of memory) and is not tried again; the file's cases are not "
            "affected"
        )
        outcome = {"status": "interrupted", "message": message}
    else:
        running = {"status": "running", "attempts": attempts}
        await asyncio.to_thread(_write, engine, sha256, owner, validation=running)
        try:
            outcome = {"status": "done", **await _child(engine, sha256), "message": None}
        except ChildFailed as exc:
            outcome = {"status": "failed", "message": str(exc)}
    outcome["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    await asyncio.to_thread(
        _write,
        engine,
        sha256,
        owner,
        validation=outcome,
        validation_owner=None,
        validation_until=None,
    )


def _let_go(engine: Engine, sha256: str, owner: str) -> None:
    with contextlib.suppress(OperationalError, InterfaceError):  # else it runs out by itself
        _write(engine, sha256, owner, validation_until=None)


async def _renew(engine: Engine, sha256: str, owner: str) -> None:
    while True:
        await asyncio.sleep(leases.RENEW_EVERY.total_seconds())
        # The database away: the check may be run again, which is harmless.
        with contextlib.suppress(OperationalError, InterfaceError):
            await asyncio.to_thread(_write, engine, sha256, owner, validation_until=leases.until())


async def _child(engine: Engine, sha256: str) -> dict[str, Any]:
    """The child's findings ({"findings": [...], "findings_omitted": n}); killed if cancelled."""
    request = {
        "url": engine.url.render_as_string(hide_password=False),
        "sha256": sha256,
        "limit": PROBLEM_LIMIT,
    }
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.ingest_validation",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    try:
        # The database's address travels on stdin, never in the command line or environment.
        child.stdin.write(json.dumps(request).encode() + b"\n")
        await child.stdin.drain()
        out, err = await asyncio.gather(child.stdout.read(), child.stderr.read())
        code = await child.wait()
    except BaseException:
        if child.returncode is None:
            child.kill()
            await child.wait()
        raise
    finally:
        child.stdin.close()
    if code != 0:
        said = err.decode("utf-8", "replace").strip().splitlines()
        last = said[-1][:STDERR_KEPT] if said else f"it ended with status {code}"
        raise ChildFailed(f"the implementation-guide check could not finish: {last}")
    found = json.loads(out)
    return {"findings": found["findings"], "findings_omitted": found["findings_omitted"]}


def _exit_with_parent() -> None:
    """In the child: stdin reaches its end only when the parent closed it or died. (Read
    unbuffered: a buffered read would hold stdin's lock as the interpreter shuts down.)"""
    while os.read(sys.stdin.fileno(), 1 << 12):
        pass
    os._exit(3)


def main() -> None:
    """The child: read the file from the database, check it, print its findings as JSON."""
    request = json.loads(sys.stdin.buffer.readline())
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    os.nice(CHILD_NICENESS)
    from db.engine import make_engine
    from edi.results import ParsedFile
    from edi.validation import validate_first

    engine = make_engine(request["url"])
    # pyx12 reads a file whole: here, in the child, never in the API process.
    raw = ingest_chunks.whole(engine, request["sha256"])
    engine.dispose()
    findings, omitted = validate_first(raw, request["limit"])
    del raw
    listed = ParsedFile(file="", sha256=request["sha256"], problems=findings).problems_json()
    json.dump({"findings": listed["warnings"], "findings_omitted": omitted}, sys.stdout)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
