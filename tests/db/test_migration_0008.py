"""Migration 0008: adjudicated claims recorded once per file by earlier ingests take the ids the
ingest now gives (payer + remittance trace + claim), and a remittance recorded from two files
keeps one set of rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.engine import alembic_config, migrate
from db.models import RemittanceClaimRow
from db.remittance_claims import adjudicated_rows, record_adjudicated
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from testkit.x12 import Claim835, Envelope, Line835, Remittance835, build_file
from tests.db.old_rows import add_claim_row_as_0007, add_ingest_file_as_0011

RECEIVED = datetime(2026, 11, 1, tzinfo=UTC)


def denied(claim_id: str, icn: str | None = None) -> Claim835:
    return Claim835(
        claim_id, status="4", icn=icn, lines=[Line835(billed=500, paid=0, cas=[("CO", "50", 500)])]
    )


REMITTANCE = Remittance835(
    claims=[
        denied("A", icn="X1"),
        denied("A", icn="X2"),
        denied("B"),
        denied("B"),
        Claim835("R", status="22", icn="ICNR", lines=[Line835(billed=-500, paid=-500)]),
        denied("R", icn="ICNR2"),
    ],
    trace_number="EFT42",
    payment_date=date(2026, 3, 2),
    production_date=date(2026, 3, 2),
)


def store_as_before(session: Session, raw: bytes, rulebook: Rulebook, minutes: int) -> str:
    """A file and its claims as ingests up to 0007 recorded them: "sha256:index" ids."""
    parsed = parse_bytes("old.835", raw, rulebook)
    received = RECEIVED + timedelta(minutes=minutes)
    add_ingest_file_as_0011(
        session,
        sha256=parsed.sha256, filename="old.835", size=len(raw), status="ingested",
        content=raw, received_by="alice", received_at=received,
    )  # fmt: skip
    for index, item in enumerate(parsed.adjudicated):
        if not item.is_reversal:
            add_claim_row_as_0007(
                session,
                row_id=f"{parsed.sha256}:{index}", file_sha256=parsed.sha256,
                payer_id=item.payer.payer_id, claim_id=item.claim_id,
                payer_claim_control_number=item.payer_claim_control_number,
                claim_status=item.claim_status, billed_amount=item.billed_amount,
                paid_amount=item.paid_amount,
                denied_amount=item.classification.denied_amount,
                is_denial=item.classification.is_denial, service_date=item.service_date,
                remittance_date=item.remittance_date,
            )  # fmt: skip
    session.commit()
    return parsed.sha256


def test_claims_recorded_per_file_are_recorded_once_per_remittance(
    empty_engine: Engine, rulebook: Rulebook
) -> None:
    command.upgrade(alembic_config(empty_engine), "0007")
    first = build_file(REMITTANCE)
    resent = build_file(REMITTANCE, envelope=Envelope(first_control_number=2))
    twice = build_file([REMITTANCE, REMITTANCE], interchanges=2)
    with Session(empty_engine) as session:
        kept = store_as_before(session, first, rulebook, minutes=0)
        store_as_before(session, resent, rulebook, minutes=1)
        store_as_before(session, twice, rulebook, minutes=2)
        add_ingest_file_as_0011(
            session,
            sha256="f", filename="scan.835", size=1, status="ingested", content=b"\x00",
            received_by="alice", received_at=RECEIVED,
        )  # fmt: skip
        add_claim_row_as_0007(
            session,
            row_id="f:0", file_sha256="f", payer_id="P", claim_id="C", claim_status="4",
            billed_amount=1, paid_amount=0, denied_amount=1, is_denial=True,
            service_date=date(2026, 3, 1),
        )  # fmt: skip
        session.commit()

    migrate(empty_engine)

    parsed = parse_bytes("new.835", first, rulebook)
    expected = {row["row_id"] for row in adjudicated_rows(kept, parsed.adjudicated)}
    assert len(expected) == 5  # A twice, B twice, R re-adjudicated
    with Session(empty_engine) as session:
        rows = session.exec(select(RemittanceClaimRow)).all()
        assert {(row.row_id, row.file_sha256) for row in rows} == {
            *((row_id, kept) for row_id in expected),
            ("f:0", "f"),  # not a file read back: left as it was
        }
        # The ingest now finds them recorded: the remittance once more adds nothing.
        again = parse_bytes("again.835", resent, rulebook)
        record_adjudicated(session, again.sha256, again.adjudicated)
        assert len(session.exec(select(RemittanceClaimRow)).all()) == 6
