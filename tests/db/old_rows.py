"""Rows as earlier schema versions stored them, for the migration tests (the model has more
columns since)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from db.models import RemittanceClaimRow


def add_claim_row_as_0007(session: Session, **values: object) -> None:
    """A remittance_claims row with the columns it had up to 0007 (0009 added payer_type)."""
    values = {"payer_name": "", "provider_npi": "", "payer_claim_control_number": "", **values}
    model = RemittanceClaimRow.__table__.c  # type: ignore[attr-defined]
    columns = [sa.column(name, model[name].type) for name in values]
    session.execute(sa.insert(sa.table("remittance_claims", *columns)).values(**values))
