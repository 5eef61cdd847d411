"""`denials parse --json` on a generated 835 of 50,000 claims, as users run it (a new process),
against our parser in-process and pyx12's segment reader, measured in the same run.

Targets (issue 20): the default command >= 10,000 claims/s; `--no-validate` within 1.3x of
the parser in-process. Each figure is the median of `--runs` rounds; a round times every path
once, so a change in the machine's load falls on all of them alike; the 1.3x is also given
in CPU time (each round's ratio), which a shared machine disturbs less than the clock. The
command's output is checked against the in-process parse (a command that printed nothing
would be fast).
`--validate-runs N` also times `denials parse --json --validate` (pyx12 beside the parse).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyx12.x12file

from domain.models import DenialKind
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from testkit.x12 import build_file, random_remittance

CLAIMS_PER_SECOND = 10_000
NO_VALIDATE_RATIO = 1.3


def cpu_seconds() -> float:
    """CPU used by this process and the children it waited for."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Seconds for `work`, on the clock and of CPU (which reads through a busy machine). Its
    result stays alive until the clock stops, as it does in an ingest: freeing it is not
    parsing."""
    gc.collect()
    start, cpu = time.perf_counter(), cpu_seconds()
    result = work()
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    del result
    gc.unfreeze()
    return elapsed, cpu


def command(path: Path, output: Path, *options: str) -> Callable[[], object]:
    """`denials parse --json` on `path` in a new process, its output written to `output`; run
    in the file's folder, so no .env of the working folder changes the rulebook."""
    denials = Path(sys.executable).with_name("denials")
    argv = [str(denials), "parse", "--json", *options, str(path)]

    def run() -> object:
        with output.open("wb") as out:
            return subprocess.run(argv, stdout=out, check=True, cwd=path.parent)

    return run


def printed(output: Path) -> tuple[int, int, bool]:
    """Claims, denials and whether pyx12 checked the file, as the command printed them."""
    (line,) = output.read_text().splitlines()
    result = json.loads(line)
    return result["claims_total"], len(result["denials"]), result["implementation_guide_checked"]


def verdict(met: bool) -> str:
    return "MET" if met else "MISSES"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--claims", type=int, default=50_000)
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--validate-runs", type=int, default=0)
    args = options.parse_args()
    logging.disable(logging.CRITICAL)

    raw = build_file(random_remittance(args.claims, seed=1))
    rulebook = Rulebook.load()
    parsed = parse_bytes("bench.835", raw, rulebook, validate_guide=False)
    assert parsed.ok and parsed.claims_total == args.claims, parsed.errors[:3]
    denials = len(parsed.cases_of(DenialKind.DENIAL))
    expected = (args.claims, denials)
    del parsed
    text = raw.decode()

    with tempfile.TemporaryDirectory() as folder:
        path, output = Path(folder) / "bench.835", Path(folder) / "out.json"
        path.write_bytes(raw)
        paths: dict[str, tuple[Callable[[], object], bool | None]] = {
            "parser in-process (no pyx12)": (
                # freeze: its objects out of the collector's sight, as the command does
                lambda: parse_bytes("bench.835", raw, rulebook, validate_guide=False, freeze=True),
                None,
            ),
            "pyx12 X12Reader (segments only)": (
                lambda: sum(1 for _ in pyx12.x12file.X12Reader(io.StringIO(text))),
                None,
            ),
            "denials parse --json": (command(path, output), False),
            "denials parse --json --no-validate": (command(path, output, "--no-validate"), False),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
        for _ in range(args.runs):
            for name, (work, checked) in paths.items():
                times[name].append(timed(work))
                if checked is not None:
                    assert printed(output) == (*expected, checked), printed(output)
        validating = command(path, output, "--validate")
        for _ in range(args.validate_runs):
            times.setdefault("denials parse --json --validate", []).append(timed(validating))
            assert printed(output) == (*expected, True), printed(output)

    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(
        f"835 of {args.claims:,} claims ({len(raw) / 1e6:.1f} MB, {denials:,} denials), "
        f"median of {args.runs} rounds; load average {load} on {os.cpu_count()} CPUs"
    )
    medians = {name: statistics.median(t for t, _ in figures) for name, figures in times.items()}
    for name, median in medians.items():
        spread = ", ".join(f"{t:.2f}" for t, _ in times[name])
        cpu = statistics.median(c for _, c in times[name])
        print(
            f"  {name:36} {args.claims / median:>9,.0f} claims/s  median {median:6.2f} s "
            f"({spread}), CPU {cpu:.2f} s"
        )
    default = args.claims / medians["denials parse --json"]
    print(
        f"  target: the default command >= {CLAIMS_PER_SECOND:,} claims/s: {default:,.0f}, "
        f"{verdict(default >= CLAIMS_PER_SECOND)}"
    )
    ratio = medians["denials parse --json --no-validate"] / medians["parser in-process (no pyx12)"]
    cpu_ratio = statistics.median(
        command_cpu / parser_cpu
        for (_, command_cpu), (_, parser_cpu) in zip(
            times["denials parse --json --no-validate"],
            times["parser in-process (no pyx12)"],
            strict=True,
        )
    )
    print(
        f"  target: --no-validate within {NO_VALIDATE_RATIO}x of the parser in-process: "
        f"{ratio:.2f}x, {verdict(ratio <= NO_VALIDATE_RATIO)} (CPU, median of the rounds' "
        f"ratios: {cpu_ratio:.2f}x, which a busy machine changes less)"
    )


if __name__ == "__main__":
    main()
