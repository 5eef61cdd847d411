"""adjudicated claims once per payer + remittance trace + claim, not once per file

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:00:00
"""

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 500


def upgrade() -> None:
    # Rows were keyed "file sha256:claim index", so a remittance sent again in another file was
    # counted again. Each row takes the id the ingest now gives (domain.kpis.adjudication_ids,
    # copied here as it is today), its trace read from the stored file; of rows that end up
    # with one id, the earliest file's is kept. A file that cannot be read back for certain
    # keeps its rows and ids as they are.
    connection = op.get_bind()
    files = connection.execute(
        sa.text(
            "SELECT sha256 FROM ingest_files WHERE sha256 IN "
            "(SELECT DISTINCT file_sha256 FROM remittance_claims) ORDER BY received_at, sha256"
        )
    ).scalars()
    for sha256 in list(files):
        content = connection.execute(
            sa.text("SELECT content FROM ingest_files WHERE sha256 = :sha256"), {"sha256": sha256}
        ).scalar_one()
        _rekey(connection, sha256, _claims(bytes(content)))
    op.create_index(
        "ix_remittance_claims_claim_payer", "remittance_claims", ["claim_id", "payer_id"]
    )


def downgrade() -> None:
    # The rows keep their ids; the duplicates removed stay removed (they only miscounted).
    op.drop_index("ix_remittance_claims_claim_payer", table_name="remittance_claims")


def _claims(raw: bytes) -> list[tuple[int, str, str]] | None:
    """Each CLP of an enveloped file in order: (its transaction's TRN position, TRN02, CLP01);
    None when the file is not read here (no ISA)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    body = text.lstrip(" \t\r\n")
    if not body.startswith("ISA") or len(body) < 4:
        return None
    element = body[3]
    parts = body.split(element, 16)
    after = parts[16][1:].lstrip(" ") if len(parts) == 17 and parts[16] else ""
    if not after:
        return None
    end = "\n" if after[0] == "\r" and after[1:2] == "\n" else after[0]
    e, t = re.escape(element), re.escape(end)
    claims = []
    transaction, trace = -1, ""
    segment = rf"{t}[ \t\r\n]*(ST|TRN|CLP){e}([^{e}{t}]*)(?:{e}([^{e}{t}]*))?"
    for match in re.finditer(segment, text):
        if match.group(1) == "ST":  # a transaction set without TRN has no trace
            transaction, trace = match.start(), ""
        elif match.group(1) == "TRN":  # TRN02 is the trace (TRN01 its type)
            trace = (match.group(3) or "").strip()
        else:
            claims.append((transaction, trace, match.group(2)))
    return claims


def _rekey(
    connection: sa.Connection, sha256: str, claims: list[tuple[int, str, str]] | None
) -> None:
    if claims is None:
        return
    rows = connection.execute(
        sa.text(
            "SELECT row_id, payer_id, claim_id, payer_claim_control_number "
            "FROM remittance_claims WHERE file_sha256 = :sha256"
        ),
        {"sha256": sha256},
    ).all()
    indexed = []
    for row_id, payer_id, claim_id, number in rows:
        index = row_id.rpartition(":")[2]
        if not index.isdigit() or int(index) >= len(claims) or claims[int(index)][2] != claim_id:
            return  # not the file as the ingest read it: leave its rows alone
        indexed.append((int(index), row_id, payer_id, claim_id, number))
    ranks: dict[tuple[int, str, str, str, str], int] = defaultdict(int)
    renamed: dict[str, str] = {}  # old id -> new id
    for index, row_id, payer_id, claim_id, number in sorted(indexed):
        transaction, trace, _ = claims[index]
        if not trace:
            continue
        key = (transaction, payer_id, trace, claim_id, number)
        parts = (payer_id, trace, claim_id, number, str(ranks[key]))
        ranks[key] += 1
        renamed[row_id] = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    taken: set[str] = set()
    wanted = sorted(set(renamed.values()))
    for start in range(0, len(wanted), CHUNK):
        taken.update(
            connection.execute(
                sa.text("SELECT row_id FROM remittance_claims WHERE row_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": wanted[start : start + CHUNK]},
            ).scalars()
        )
    deleted, updated = [], []
    for old, new in renamed.items():
        if new in taken:  # an earlier file (or this one, repeating a remittance) has it
            deleted.append({"old": old})
        else:
            updated.append({"new": new, "old": old})
            taken.add(new)
    if deleted:
        connection.execute(sa.text("DELETE FROM remittance_claims WHERE row_id = :old"), deleted)
    if updated:
        connection.execute(
            sa.text("UPDATE remittance_claims SET row_id = :new WHERE row_id = :old"), updated
        )
