"""Adjudicated claims recorded once per payer + remittance trace + claim, on SQLite and
PostgreSQL: a remittance that comes again adds nothing, two adjudications in one remittance stay
two."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import IngestFileRow, RemittanceClaimRow
from db.remittance_claims import record_adjudicated
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from testkit.x12 import (
    Claim835,
    Envelope,
    Layout,
    Line835,
    Remittance835,
    build_file,
)

PAID_ON = date(2026, 3, 2)


def denied(claim_id: str, icn: str | None = None) -> Claim835:
    return Claim835(
        claim_id, status="4", icn=icn, lines=[Line835(billed=500, paid=0, cas=[("CO", "50", 500)])]
    )


def remittance(payer_id: str, trace: str, *claims: Claim835) -> Remittance835:
    return Remittance835(
        claims=list(claims),
        payer_id=payer_id,
        trace_number=trace,
        payment_date=PAID_ON,
        production_date=PAID_ON,
    )


def record(engine: Engine, rulebook: Rulebook, raw: bytes) -> str:
    parsed = parse_bytes("r.835", raw, rulebook)
    assert parsed.ok, parsed.errors
    with Session(engine) as session:
        session.add(
            IngestFileRow(
                sha256=parsed.sha256,
                filename="r.835",
                size=len(raw),
                status="ingested",
                received_by="test",
                received_at=datetime.now(UTC),
            )
        )
        session.commit()
        record_adjudicated(session, parsed.sha256, parsed.adjudicated)
    return parsed.sha256


def recorded(engine: Engine, payer_id: str) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(RemittanceClaimRow).where(col(RemittanceClaimRow.payer_id) == payer_id)
        ).all()
    return sorted((row.claim_id, row.payer_claim_control_number, row.claim_status) for row in rows)


def test_a_remittance_in_another_interchange_is_recorded_once(
    engine: Engine, rulebook: Rulebook
) -> None:
    payer = f"P-{uuid.uuid4().hex[:8]}"
    sent = remittance(payer, "EFT1", denied("A"), denied("B"), denied("C"))
    first = record(engine, rulebook, build_file(sent, envelope=Envelope(first_control_number=1)))
    again = record(engine, rulebook, build_file(sent, envelope=Envelope(first_control_number=7)))
    # Twice in one file, one-line layout this time.
    both = build_file([sent, sent], interchanges=2, layout=Layout(newline=""))
    record(engine, rulebook, both)
    assert len({first, again, hashlib.sha256(both).hexdigest()}) == 3
    assert recorded(engine, payer) == [("A", "ICNA", "4"), ("B", "ICNB", "4"), ("C", "ICNC", "4")]
    # Another remittance (another trace) adjudicating A again counts again.
    record(engine, rulebook, build_file(remittance(payer, "EFT2", denied("A"))))
    assert len(recorded(engine, payer)) == 4


def test_two_adjudications_in_one_remittance_stay_two(engine: Engine, rulebook: Rulebook) -> None:
    """CLP01 under two payer claim numbers, the same CLP loop twice, and a reversal with its
    re-adjudication (only the latter is an adjudicated claim)."""
    payer = f"P-{uuid.uuid4().hex[:8]}"
    reversal = Claim835("R", status="22", icn="ICNR", lines=[Line835(billed=-500, paid=-500)])
    sent = remittance(
        payer,
        "EFT9",
        denied("A", icn="X1"),
        denied("A", icn="X2"),
        denied("B"),
        denied("B"),
        reversal,
        denied("R", icn="ICNR2"),
    )
    raw = build_file(sent)
    record(engine, rulebook, raw)
    record(engine, rulebook, build_file(sent, envelope=Envelope(first_control_number=2)))
    assert recorded(engine, payer) == [
        ("A", "X1", "4"),
        ("A", "X2", "4"),
        ("B", "ICNB", "4"),
        ("B", "ICNB", "4"),
        ("R", "ICNR2", "4"),
    ]


def test_the_trace_is_read_from_the_transaction_set_of_each_claim(rulebook: Rulebook) -> None:
    raw = build_file(
        [remittance("P", "EFT1", denied("A")), remittance("P", "EFT2", denied("B"), denied("C"))],
        layout=Layout(segment="\r", newline="\n"),  # CR LF ends each segment
    )
    parsed = parse_bytes("r.835", raw, rulebook)
    assert parsed.ok, parsed.errors
    items = parsed.adjudicated
    assert [item.remittance_trace for item in items] == ["EFT1", "EFT2", "EFT2"]
    assert items[1].transaction == items[2].transaction != items[0].transaction
