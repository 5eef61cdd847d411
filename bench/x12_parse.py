"""Parse + classify throughput on a generated 835 of 50,000 claims, against pyx12's reader.

Target: >= 10,000 claims/s for parse + classify (no implementation-guide validation, which
is pyx12's own much slower job). The baseline is pyx12's X12Reader only splitting the same
file into segments, measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import io
import logging
import statistics
import time
from collections.abc import Callable

import pyx12.x12file

from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from testkit.x12 import build_file, random_remittance

TARGET = 10_000


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """Best and median seconds over `runs` runs (the best is the least disturbed by noise).
    The result stays alive until the clock stops, as it does in an ingest: freeing it is
    not parsing."""
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
        del result
    return min(times), statistics.median(times)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--claims", type=int, default=50_000)
    options.add_argument("--runs", type=int, default=3)
    args = options.parse_args()
    logging.disable(logging.CRITICAL)

    raw = build_file(random_remittance(args.claims, seed=1))
    rulebook = Rulebook.load()
    parsed = parse_bytes("bench.835", raw, rulebook, validate_guide=False)
    assert parsed.ok and parsed.claims_total == args.claims, parsed.errors[:3]
    text = raw.decode()

    ours_best, ours_median = best_of(
        args.runs, lambda: parse_bytes("bench.835", raw, rulebook, validate_guide=False)
    )
    reader_best, reader_median = best_of(
        args.runs, lambda: sum(1 for _ in pyx12.x12file.X12Reader(io.StringIO(text)))
    )
    print(f"835 of {args.claims:,} claims, {len(raw) / 1e6:.1f} MB, {len(parsed.cases):,} cases")
    for name, best, median in (
        ("denials parse + classify", ours_best, ours_median),
        ("pyx12 X12Reader (streams segments)", reader_best, reader_median),
    ):
        print(
            f"  {name:34} best {args.claims / best:>9,.0f} claims/s "
            f"({best:.2f} s), median {args.claims / median:>9,.0f} claims/s"
        )
    verdict = "meets" if args.claims / ours_best >= TARGET else "MISSES"
    print(f"  target >= {TARGET:,} claims/s: {verdict}")


if __name__ == "__main__":
    main()
