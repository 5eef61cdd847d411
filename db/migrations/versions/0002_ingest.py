"""ingest files, remittance claims, case sequence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 08:56:53.833812
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ingest_files',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('received_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('received_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('sha256')
    )
    with op.batch_alter_table('ingest_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_files_status'), ['status'], unique=False)

    op.create_table('remittance_claims',
    sa.Column('row_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('payer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('payer_claim_control_number', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('claim_status', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('provider_npi', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('billed_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('denied_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('is_denial', sa.Boolean(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('service_date', sa.Date(), nullable=False),
    sa.Column('remittance_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['file_sha256'], ['ingest_files.sha256'], ),
    sa.PrimaryKeyConstraint('row_id')
    )
    with op.batch_alter_table('remittance_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_claims_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index('ix_remittance_claims_payer_date', ['payer_id', 'remittance_date'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='1'))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('sequence')

    with op.batch_alter_table('remittance_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_remittance_claims_payer_date')
        batch_op.drop_index(batch_op.f('ix_remittance_claims_file_sha256'))

    op.drop_table('remittance_claims')
    with op.batch_alter_table('ingest_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_files_status'))

    op.drop_table('ingest_files')
