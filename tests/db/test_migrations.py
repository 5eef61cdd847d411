"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)
from db.case_search import search_index_object
from db.engine import alembic_config, make_engine, migrate
from db.models import RemittanceClaimRow
from tests.db.old_rows import add_claim_row_as_0007, add_ingest_file_as_0011


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    """After `alembic upgrade head` autogenerate finds nothing to add, drop or change: a model
    changed without its migration (or the reverse) fails here, naming the difference."""
    with engine.connect() as connection:
        # The search's trigram index (an FTS5 table on SQLite) lives beside the models.
        opts = {
            "compare_type": True,
            "include_name": lambda name, *_: not search_index_object(name),
        }
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_reversals_recorded_by_earlier_ingests_leave_the_denial_rate(tmp_path: Path) -> None:
    """Up to 0006 the ingest stored CLP02 22 reversals as denied claims; 0007 removes them
    and keeps every other adjudicated claim."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0006")  # 0007 changes data, not the schema
    with Session(engine) as session:
        add_ingest_file_as_0011(
            session,
            sha256="f",
            filename="old.835",
            size=1,
            status="ingested",
            content=b"\x00",
            received_by="alice",
            received_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        for index, status, billed in [(0, "4", 500), (1, "22", -100), (2, "1", 300)]:
            add_claim_row_as_0007(
                session,
                row_id=f"f:{index}",
                file_sha256="f",
                payer_id="P",
                claim_id="C",
                claim_status=status,
                billed_amount=Decimal(billed),
                paid_amount=Decimal(0),
                denied_amount=Decimal(0),
                is_denial=True,
                service_date=date(2026, 10, 1),
            )
        session.commit()
    migrate(engine)
    with Session(engine) as session:
        kept = session.exec(
            select(RemittanceClaimRow.row_id, RemittanceClaimRow.claim_status).order_by(
                RemittanceClaimRow.row_id
            )
        ).all()
    engine.dispose()
    assert [tuple(row) for row in kept] == [("f:0", "4"), ("f:2", "1")]


def test_a_database_url_with_a_percent_sign_migrates(tmp_path: Path) -> None:
    """Alembic's config interpolates '%': a password or a socket path may hold one."""
    folder = tmp_path / "100%_local"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'denials.db'}")
    migrate(engine)
    with Session(engine) as session:
        assert session.exec(select(RemittanceClaimRow)).all() == []
    engine.dispose()
