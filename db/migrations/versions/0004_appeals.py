"""appeal letters, case documents, submission records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:52:28.616329
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('submission_records',
    sa.Column('submission_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('appeal_level', sa.Integer(), nullable=True),
    sa.Column('adapter', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('submitted_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('submitted_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.PrimaryKeyConstraint('submission_id')
    )
    with op.batch_alter_table('submission_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_records_case_id'), ['case_id'], unique=False)

    op.create_table('appeal_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('appeal_level', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appeal_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_letters_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_appeal_letters_case_level_version', ['case_id', 'appeal_level', 'version'], unique=True)

    op.create_table('case_documents',
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], ),
    sa.PrimaryKeyConstraint('document_id')
    )
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_documents_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_documents_case_id'))

    op.drop_table('case_documents')
    with op.batch_alter_table('appeal_letters', schema=None) as batch_op:
        batch_op.drop_index('ix_appeal_letters_case_level_version')
        batch_op.drop_index(batch_op.f('ix_appeal_letters_case_id'))

    op.drop_table('appeal_letters')
    with op.batch_alter_table('submission_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_records_case_id'))

    op.drop_table('submission_records')
