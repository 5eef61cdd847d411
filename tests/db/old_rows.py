"""Rows as earlier schema versions stored them, for the migration tests (the model has more
columns since)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from db.models import IngestFileRow, RemittanceClaimRow


def add_claim_row_as_0007(session: Session, **values: object) -> None:
    """A remittance_claims row with the columns it had up to 0007 (0009 added payer_type)."""
    values = {"payer_name": "", "provider_npi": "", "payer_claim_control_number": "", **values}
    model = RemittanceClaimRow.__table__.c  # type: ignore[attr-defined]
    columns = [sa.column(name, model[name].type) for name in values]
    session.execute(sa.insert(sa.table("remittance_claims", *columns)).values(**values))


def add_ingest_file_as_0011(session: Session, **values: object) -> None:
    """An ingest_files row with the columns it had up to 0011 (0012 added the lease; 0031 moved
    content to ingest_file_chunks)."""
    values = {"report": {}, **values}
    model = IngestFileRow.__table__.c  # type: ignore[attr-defined]
    columns = [
        sa.column(name, sa.LargeBinary() if name == "content" else model[name].type)
        for name in values
    ]
    session.execute(sa.insert(sa.table("ingest_files", *columns)).values(**values))
