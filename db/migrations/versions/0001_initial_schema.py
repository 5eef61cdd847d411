"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 07:22:30.678131
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('denial_class', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('payer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('payer_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('payer_claim_control_number', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('provider_npi', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('service_date_from', sa.Date(), nullable=False),
    sa.Column('service_date_to', sa.Date(), nullable=True),
    sa.Column('remittance_date', sa.Date(), nullable=True),
    sa.Column('billed_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('denied_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('recovered_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('appeal_level', sa.Integer(), nullable=False),
    sa.Column('next_deadline', sa.Date(), nullable=True),
    sa.Column('next_deadline_kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('priority', sa.Float(), nullable=False),
    sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('escalation', sa.Integer(), nullable=False),
    sa.Column('stalled', sa.Boolean(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_assignee_priority', ['assignee', 'priority'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_next_deadline'), ['next_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_payer_claim_control_number'), ['payer_claim_control_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_payer_id'), ['payer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_priority'), ['priority'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)
        batch_op.create_index('ix_cases_status_priority', ['status', 'priority'], unique=False)

    op.create_table('prevention_tasks',
    sa.Column('prevention_task_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('pattern_key', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('payer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('root_cause', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owning_team', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('recommended_action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('dollars_at_stake', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('prevention_task_id')
    )
    with op.batch_alter_table('prevention_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prevention_tasks_payer_id'), ['payer_id'], unique=False)
        batch_op.create_index('uq_prevention_open_pattern', ['pattern_key'], unique=True, sqlite_where=sa.text("status != 'done'"), postgresql_where=sa.text("status != 'done'"))

    op.create_table('users',
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('case_events',
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', db.types.UTCDateTime(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], ),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)

    op.create_table('prevention_case_links',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prevention_task_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('denied_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('linked_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['prevention_task_id'], ['prevention_tasks.prevention_task_id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('prevention_case_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prevention_case_links_prevention_task_id'), ['prevention_task_id'], unique=False)

    op.create_table('tasks',
    sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_version', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('priority', sa.Float(), nullable=False),
    sa.Column('appeal_level', sa.Integer(), nullable=True),
    sa.Column('deadline_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('deadline_due', sa.Date(), nullable=True),
    sa.Column('escalation', sa.Integer(), nullable=False),
    sa.Column('stalled', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('due_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('last_touched_at', db.types.UTCDateTime(), nullable=False),
    sa.Column('completed_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('completed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], ),
    sa.PrimaryKeyConstraint('task_id')
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_tasks_status_assignee', ['status', 'assignee'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_status_assignee')
        batch_op.drop_index(batch_op.f('ix_tasks_case_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('prevention_case_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prevention_case_links_prevention_task_id'))

    op.drop_table('prevention_case_links')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    op.drop_table('users')
    with op.batch_alter_table('prevention_tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_prevention_open_pattern', sqlite_where=sa.text("status != 'done'"), postgresql_where=sa.text("status != 'done'"))
        batch_op.drop_index(batch_op.f('ix_prevention_tasks_payer_id'))

    op.drop_table('prevention_tasks')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_priority')
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_priority'))
        batch_op.drop_index(batch_op.f('ix_cases_payer_id'))
        batch_op.drop_index(batch_op.f('ix_cases_payer_claim_control_number'))
        batch_op.drop_index(batch_op.f('ix_cases_next_deadline'))
        batch_op.drop_index(batch_op.f('ix_cases_claim_id'))
        batch_op.drop_index(batch_op.f('ix_cases_category'))
        batch_op.drop_index('ix_cases_assignee_priority')

    op.drop_table('cases')
