"""Recording the claims an 835 adjudicated, the denial rate's denominator: each once per payer +
remittance trace (TRN02, the check or EFT trace number) + claim, however many files (another
interchange, other bytes) bring the same remittance again."""

from __future__ import annotations

import hashlib
import logging
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, MutableMapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session

from db.check_outcomes import record_check_outcomes
from db.models import RemittanceClaimRow
from db.upsert import upsert
from domain.kpis import AdjudicationRef, adjudication_ids
from edi.results import AdjudicatedClaim

logger = logging.getLogger(__name__)


def adjudicated_rows(sha256: str, claims: Sequence[AdjudicatedClaim]) -> list[dict[str, Any]]:
    """The rows of the claims a file adjudicated, keyed by adjudication_ids."""
    return list(_unique_rows(sha256, claims, 0, defaultdict(int)))


class _Ranks(MutableMapping[tuple[int, str, str, str, str], int]):
    """How often each claim was seen so far in a file, by an 8-byte digest of its key: a
    large file's keys themselves would weigh tens of MB (a collision, about one in 10^9 on
    a file of 250,000 claims, would give a repeated claim's rank to another). Nearly every
    claim is seen once: those digests are kept 8 bytes each in sorted arrays (merged as they
    grow, as a log-structured merge does), not as a dict's boxed ints (about 75 bytes each,
    18 MiB for 242,000 claims); the few seen again are counted in a dict."""

    _PENDING = 4096  # digests gathered in a set before they are sorted into an array

    def __init__(self) -> None:
        self._runs: list[array[int]] = []  # sorted, each at most half the size of the last
        self._pending: set[int] = set()
        self._repeated: dict[int, int] = {}
        self._last: tuple[object, int] = (None, 0)

    def _digest(self, key: tuple[int, str, str, str, str]) -> int:
        if key is self._last[0]:  # `ranks[key] += 1` reads, then writes, the same key
            return self._last[1]
        text = "\x1f".join(map(str, key)).encode()
        digest = int.from_bytes(hashlib.blake2b(text, digest_size=8).digest())
        self._last = (key, digest)
        return digest

    def _seen(self, digest: int) -> bool:
        if digest in self._pending:
            return True
        for run in self._runs:
            at = bisect_left(run, digest)
            if at < len(run) and run[at] == digest:
                return True
        return False

    def __getitem__(self, key: tuple[int, str, str, str, str]) -> int:
        digest = self._digest(key)
        if digest in self._repeated:
            return self._repeated[digest]
        return 1 if self._seen(digest) else 0

    def __setitem__(self, key: tuple[int, str, str, str, str], value: int) -> None:
        digest = self._digest(key)
        if value > 1:
            self._repeated[digest] = value
        elif value == 1:  # (seen twice, it would be found twice: harmless)
            self._pending.add(digest)
            if len(self._pending) >= self._PENDING:
                self._settle()

    def _settle(self) -> None:
        run = array("Q", sorted(self._pending))
        self._pending.clear()
        while self._runs and len(self._runs[-1]) <= 2 * len(run):
            run = array("Q", sorted(self._runs.pop() + run))
        self._runs.append(run)

    def __delitem__(self, key: tuple[int, str, str, str, str]) -> None:
        raise TypeError("a rank is never taken back")

    def __iter__(self) -> Iterator[tuple[int, str, str, str, str]]:
        raise TypeError("the keys are not kept")

    def __len__(self) -> int:  # claims seen (at least)
        return len(self._pending) + sum(map(len, self._runs))


def _unique_rows(
    sha256: str,
    claims: Sequence[AdjudicatedClaim],
    first: int,
    ranks: MutableMapping[tuple[int, str, str, str, str], int],
) -> Iterator[dict[str, Any]]:
    """One row per adjudication id, the first of a remittance found twice in these claims,
    made as they are written: a large remittance's rows all at once would be hundreds of MB.
    `first`: the place of the first claim in the file; `ranks`: carried from part to part."""
    # A reversal takes back an earlier adjudication; it is neither a claim adjudicated nor a
    # denial for the denial rate (its re-adjudication, if any, comes as a claim of its own).
    recorded = [(index, item) for index, item in enumerate(claims, first) if not item.is_reversal]
    ids = adjudication_ids(
        (
            AdjudicationRef(
                transaction=item.transaction,
                payer_id=item.payer.payer_id,
                trace=item.remittance_trace,
                claim_id=item.claim_id,
                payer_claim_control_number=item.payer_claim_control_number,
                fallback=f"{sha256}:{index}",
            )
            for index, item in recorded
        ),
        ranks,
    )
    seen: set[str] = set()
    for row_id, (_, item) in zip(ids, recorded, strict=True):
        if row_id in seen:  # a remittance twice in one file: once
            continue
        seen.add(row_id)
        yield {
            "row_id": row_id,
            "file_sha256": sha256,
            "payer_id": item.payer.payer_id,
            "payer_name": item.payer.name,
            "payer_type": item.payer.type.value,
            "claim_id": item.claim_id,
            "payer_claim_control_number": item.payer_claim_control_number,
            "claim_status": item.claim_status,
            "provider_npi": item.provider_npi,
            "billed_amount": item.billed_amount,
            "paid_amount": item.paid_amount,
            "denied_amount": item.classification.denied_amount,
            "is_denial": item.classification.is_denial,
            "category": item.classification.category.value
            if item.classification.is_denial
            else None,
            "service_date": item.service_date,
            "remittance_date": item.remittance_date,
        }


def record_adjudicated(session: Session, sha256: str, claims: Sequence[AdjudicatedClaim]) -> None:
    """Add the file's adjudicated claims; one recorded already (by an earlier file) is kept."""
    AdjudicatedRecorder(sha256).record(session, claims, 0)


class AdjudicatedRecorder:
    """Records a file's adjudicated claims a part at a time (edi.stream.parts), as
    record_adjudicated records them all at once: the same rows, each claim's rank among its
    repeats carried from part to part. The same remittance found again in a later part is
    kept once by the database (its row id is taken)."""

    def __init__(self, sha256: str) -> None:
        self._sha256 = sha256
        self._ranks = _Ranks()

    def record(self, session: Session, claims: Sequence[AdjudicatedClaim], first: int) -> None:
        table: Table = RemittanceClaimRow.__table__  # type: ignore[attr-defined]
        rows = _unique_rows(self._sha256, claims, first, self._ranks)
        while batch := list(islice(rows, 1000)):
            upsert(session, table, batch, ["row_id"], update=False)
            unmatched = record_check_outcomes(session, batch).ambiguous
            if unmatched:
                logger.warning(
                    "%d adjudicated claims match pre-submission checks of several other payers:"
                    " their outcomes are not recorded",
                    unmatched,
                )
        session.commit()
