"""The ranks carried from part to part of a file (db.remittance_claims._Ranks) count each claim
as a plain dict would, past the point where the digests seen once are sorted into arrays, and
weigh about 8 bytes a claim."""

from __future__ import annotations

import random
import tracemalloc
from collections import defaultdict

from db.remittance_claims import _Ranks


def test_ranks_count_as_a_dict_does() -> None:
    picked = random.Random(5)
    keys = [
        (picked.randint(0, 1), "P", f"T{picked.randint(0, 9)}", f"C{picked.randint(0, 9000)}", "")
        for _ in range(60_000)
    ]
    ranks, counted = _Ranks(), defaultdict[tuple[int, str, str, str, str], int](int)
    for key in keys:
        assert ranks[key] == counted[key]
        ranks[key] += 1
        counted[key] += 1
    assert max(counted.values()) > 2  # repeats were counted


def test_ranks_weigh_about_8_bytes_a_claim() -> None:
    tracemalloc.start()
    try:
        ranks = _Ranks()
        for number in range(30_000):
            ranks[(1, "P", "T", f"C{number}", "")] += 1
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 30_000 * 20  # a dict of the digests: about 75 bytes each
