"""A file's adjudicated claims recorded a part at a time (AdjudicatedRecorder) are the rows
record_adjudicated writes for the whole file: a claim repeated in a later part keeps its rank,
a remittance repeated in a later part is kept once."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import RemittanceClaimRow
from db.remittance_claims import AdjudicatedRecorder, adjudicated_rows
from domain.rulebook import Rulebook
from edi.stream import parts
from testkit.x12 import build_file
from tests.db.test_remittance_claims import denied, record, remittance


def test_parts_record_the_rows_of_the_whole_file(engine: Engine, rulebook: Rulebook) -> None:
    payer = f"P-{uuid.uuid4().hex[:8]}"
    sent = remittance(payer, "EFT5", denied("A"), denied("B"), denied("A"), denied("A"))
    raw = build_file([sent, sent], interchanges=2)  # the remittance twice: kept once
    sha256 = record(engine, rulebook, raw)  # the file row, and its rows recorded whole
    with Session(engine) as session:
        whole = {
            row.row_id
            for row in session.exec(
                select(RemittanceClaimRow).where(col(RemittanceClaimRow.payer_id) == payer)
            )
        }
        for row in session.exec(
            select(RemittanceClaimRow).where(col(RemittanceClaimRow.payer_id) == payer)
        ):
            session.delete(row)
        session.commit()
        recorder = AdjudicatedRecorder(sha256)
        read = list(parts("r.835", raw, rulebook, size=1))
        assert len(read) == 8
        for part in read:
            recorder.record(session, part.adjudicated, part.first_adjudicated)
        in_parts = {
            row.row_id
            for row in session.exec(
                select(RemittanceClaimRow).where(col(RemittanceClaimRow.payer_id) == payer)
            )
        }
    assert len(whole) == 4  # A three times (ranks 0, 1, 2) and B
    assert in_parts == whole
    expected = {
        row["row_id"] for row in adjudicated_rows(sha256, [c for p in read for c in p.adjudicated])
    }
    assert expected == whole
