"""root cause pattern columns on cases, prevention item completion time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carc', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('procedure_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('denied_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_denied_on'), ['denied_on'], unique=False)
        batch_op.create_index('ix_cases_payer_carc_denied_on', ['payer_id', 'carc', 'denied_on'], unique=False)
        batch_op.create_index('ix_cases_npi_carc_denied_on', ['provider_npi', 'carc', 'denied_on'], unique=False)
        batch_op.create_index('ix_cases_procedure_payer_denied_on', ['procedure_code', 'payer_id', 'denied_on'], unique=False)
    # Existing cases get their denial day now; CARC and procedure follow at their next projection.
    op.execute("UPDATE cases SET denied_on = remittance_date WHERE remittance_date IS NOT NULL")
    with op.batch_alter_table('prevention_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_at', db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('prevention_tasks', schema=None) as batch_op:
        batch_op.drop_column('completed_at')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_procedure_payer_denied_on')
        batch_op.drop_index('ix_cases_npi_carc_denied_on')
        batch_op.drop_index('ix_cases_payer_carc_denied_on')
        batch_op.drop_index(batch_op.f('ix_cases_denied_on'))
        batch_op.drop_column('denied_on')
        batch_op.drop_column('procedure_code')
        batch_op.drop_column('carc')
