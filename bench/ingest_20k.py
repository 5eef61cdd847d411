"""`denials ingest` of a 20,000-claim 835 with 2,000 denials (one claim in ten, the rest paid),
until every case is triaged, against as many trivial workflows started and completed on the
same stack in the same run (bench/trivial_workflow.py).

Each part runs as deployed, a process of its own (bench/ingest_stack.py): the Temporal dev
server, `denials worker`, the `denials ingest` CLI, the SQLite read model; payloads encrypted.
Reported: time to the first case in the read model, time until every case is triaged, CPU per
case by process (worker, Temporal, ingest) beside the CPU per trivial workflow.

Targets (issue 20): every case triaged within 1.2x of the trivial baseline; the first case
within 3 s.
A workflow of a new case's shape with no work in it already takes about 1.2x the trivial one
(bench/workflow_shapes.py: 1.05-1.29x, 2026-12-05 at load 9-11).

    .venv/bin/python -m bench.ingest_20k [--claims 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio

from bench.ingest_stack import ingest_with_cli, report, runs

FIRST_CASE_TARGET = 3.0


async def run(claims: int, count: int) -> None:
    print(f"`denials ingest` of an 835 of {claims:,} claims, one in ten denied", flush=True)
    cases, done = await runs(claims, count, ingest_with_cli)
    report("ingest through the CLI", cases, done, FIRST_CASE_TARGET)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--claims", type=int, default=20_000)
    options.add_argument("--runs", type=int, default=3)
    arguments = options.parse_args()
    asyncio.run(run(arguments.claims, arguments.runs))


if __name__ == "__main__":
    main()
