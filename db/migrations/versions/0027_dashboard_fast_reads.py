"""dashboard fast reads (issue 20): each case's fact says whether its claim was adjudicated on
its denial day (so the write-offs look for the claims of the other cases only), kept false
by triggers when a claim is changed or removed; on PostgreSQL the summaries are read from
covering indexes (index-only scans). Every case's fact and sums are built here afresh (0021
left them to this migration)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 23:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session

from db.dashboard_summary import rebuild_dashboard

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FACTS = "dashboard_case_facts"
# A claim changed or removed may take away the adjudication a fact relies on: the fact's
# claim is then looked for again (until the next projection says otherwise). A claim added
# needs nothing: a fact saying false is looked for anyway.
_SQLITE_CLEAR = (
    f"UPDATE {_FACTS} SET adjudicated_that_day = 0 WHERE claim_id = OLD.claim_id "
    "AND payer_id = OLD.payer_id AND adjudicated_that_day;"
)
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER dashboard_fact_claim_{event.lower()} AFTER {event} ON remittance_claims "
    f"BEGIN {_SQLITE_CLEAR} END"
    for event in ("UPDATE", "DELETE")
]
_POSTGRES_TRIGGERS = [
    f"""
CREATE FUNCTION dashboard_fact_claim_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {_FACTS} AS f SET adjudicated_that_day = false
    FROM (SELECT DISTINCT claim_id, payer_id FROM old_rows) AS o
    WHERE f.claim_id = o.claim_id AND f.payer_id = o.payer_id AND f.adjudicated_that_day;
    RETURN NULL;
END $$
""",
    *(
        f"CREATE TRIGGER dashboard_fact_claim_{event.lower()} AFTER {event} ON "
        "remittance_claims REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION dashboard_fact_claim_change()"
        for event in ("UPDATE", "DELETE")
    ),
]
_GIVEN_UP = "ix_dashboard_case_facts_given_up"
_GIVEN_UP_BEFORE = ["gives_up", "counted", "denied_on", "claim_id", "payer_id", "unrecovered_cents"]


def upgrade() -> None:
    op.add_column(
        _FACTS,
        sa.Column("adjudicated_that_day", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.drop_index(_GIVEN_UP, _FACTS)
    columns = [*_GIVEN_UP_BEFORE[:3], "adjudicated_that_day", *_GIVEN_UP_BEFORE[3:]]
    op.create_index(_GIVEN_UP, _FACTS, columns)
    op.create_index("ix_dashboard_case_facts_claim", _FACTS, ["claim_id", "payer_id"])
    op.create_index(
        "ix_dashboard_summary_read",
        "dashboard_summary",
        ["dimension", "day", "key"],
        postgresql_include=["label", "cases", "cents", "appealed_closed", "overturned"],
    )
    op.create_index(
        "ix_claim_summary_read",
        "claim_summary",
        ["dimension", "day", "key", "is_denial"],
        postgresql_include=["label", "claims", "cents"],
    )
    # Every case's fact and summary rows afresh, as the projection counts them from now on
    # (this also counts the cases of a database migrated from before 0021).
    with Session(bind=op.get_bind()) as session:
        rebuild_dashboard(session)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in ("update", "delete"):
        on = " ON remittance_claims" if postgres else ""
        op.execute(f"DROP TRIGGER dashboard_fact_claim_{event}{on}")
    if postgres:
        op.execute("DROP FUNCTION dashboard_fact_claim_change()")
    op.drop_index("ix_claim_summary_read", "claim_summary")
    op.drop_index("ix_dashboard_summary_read", "dashboard_summary")
    op.drop_index("ix_dashboard_case_facts_claim", _FACTS)
    op.drop_index(_GIVEN_UP, _FACTS)
    op.create_index(_GIVEN_UP, _FACTS, _GIVEN_UP_BEFORE)
    with op.batch_alter_table(_FACTS) as table:
        table.drop_column("adjudicated_that_day")
