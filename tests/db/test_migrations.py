"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)
from db.engine import alembic_config, make_engine, migrate


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    """After `alembic upgrade head` autogenerate finds nothing to add, drop or change: a model
    changed without its migration (or the reverse) fails here, naming the difference."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_reversals_recorded_by_earlier_ingests_leave_the_denial_rate(tmp_path: Path) -> None:
    """Up to 0006 the ingest stored CLP02 22 reversals as denied claims; 0007 removes them
    and keeps every other adjudicated claim."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0006")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ingest_files (sha256, filename, size, status, content, received_by,"
                " received_at, report) VALUES ('f', 'old.835', 1, 'ingested', x'00', 'alice',"
                " '2026-11-01 00:00:00', '{}')"
            )
        )
        for index, status, billed in [(0, "4", 500), (1, "22", -100), (2, "1", 300)]:
            connection.execute(
                text(
                    "INSERT INTO remittance_claims (row_id, file_sha256, payer_id, payer_name,"
                    " claim_id, payer_claim_control_number, claim_status, provider_npi,"
                    " billed_amount, paid_amount, denied_amount, is_denial, service_date)"
                    " VALUES (:row_id, 'f', 'P', '', 'C', '', :status, '', :billed, 0, 0,"
                    " :denied, '2026-10-01')"
                ),
                {"row_id": f"f:{index}", "status": status, "billed": billed, "denied": True},
            )
    migrate(engine)
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT row_id, claim_status FROM remittance_claims ORDER BY row_id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in kept] == [("f:0", "4"), ("f:2", "1")]
