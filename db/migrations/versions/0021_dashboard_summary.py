"""dashboard summaries: each case's dashboard fact and per-day sums, kept by the projection;
the adjudicated claims per day, payer or provider, kept by triggers on remittance_claims and
backfilled from the rows already there (the cases' facts and sums by 0027). The write-off
probe's index carries the claim's dates.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A claim counts on the day it was reported (remittance date, else service date) under its
# payer and under its provider. Its charges in cents: exact sums on SQLite too.
_BACKFILL_CLAIMS = """
INSERT INTO claim_summary (dimension, day, key, is_denial, label, claims, cents)
SELECT 'payer', coalesce(remittance_date, service_date), payer_id, is_denial, max(payer_name),
       count(*), sum(CAST({cents} AS BIGINT))
FROM remittance_claims GROUP BY coalesce(remittance_date, service_date), payer_id, is_denial
UNION ALL
SELECT 'provider', coalesce(remittance_date, service_date), provider_npi, is_denial, '',
       count(*), sum(CAST({cents} AS BIGINT))
FROM remittance_claims GROUP BY coalesce(remittance_date, service_date), provider_npi, is_denial
"""

_SQLITE_ADD = """
INSERT INTO claim_summary (dimension, day, key, is_denial, label, claims, cents)
VALUES ('payer', coalesce({row}.remittance_date, {row}.service_date), {row}.payer_id,
        {row}.is_denial, {label}, {sign},
        {sign} * CAST(round({row}.billed_amount * 100) AS INTEGER)),
       ('provider', coalesce({row}.remittance_date, {row}.service_date), {row}.provider_npi,
        {row}.is_denial, '', {sign}, {sign} * CAST(round({row}.billed_amount * 100) AS INTEGER))
ON CONFLICT (dimension, day, key, is_denial) DO UPDATE SET
    claims = claims + excluded.claims, cents = cents + excluded.cents,
    label = max(label, excluded.label);
"""
_SQLITE_NEW = _SQLITE_ADD.format(row="NEW", label="NEW.payer_name", sign="1")
_SQLITE_OLD = _SQLITE_ADD.format(row="OLD", label="''", sign="-1")
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER claim_summary_insert AFTER INSERT ON remittance_claims "
    f"BEGIN {_SQLITE_NEW} END",
    "CREATE TRIGGER claim_summary_delete AFTER DELETE ON remittance_claims "
    f"BEGIN {_SQLITE_OLD} END",
    "CREATE TRIGGER claim_summary_update AFTER UPDATE ON remittance_claims "
    f"BEGIN {_SQLITE_OLD} {_SQLITE_NEW} END",
]

# PostgreSQL: once per statement, the statement's rows summed first and written in key order
# (concurrent ingests then take the rows they share in the same order).
_POSTGRES_ADD = """
    INSERT INTO claim_summary AS s (dimension, day, key, is_denial, label, claims, cents)
    SELECT k.dimension, coalesce(r.remittance_date, r.service_date), k.key, r.is_denial,
           max(k.label), {sign} * count(*), {sign} * sum(round(r.billed_amount * 100))::bigint
    FROM {rows} AS r CROSS JOIN LATERAL (
        VALUES ('payer', r.payer_id, {label}), ('provider', r.provider_npi, '')
    ) AS k(dimension, key, label)
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (dimension, day, key, is_denial) DO UPDATE SET
        claims = s.claims + excluded.claims, cents = s.cents + excluded.cents,
        label = greatest(s.label, excluded.label);
"""
_POSTGRES_TRIGGERS = [
    f"""
CREATE FUNCTION claim_summary_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_POSTGRES_ADD.format(rows="old_rows", label="''", sign="-1")}
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_POSTGRES_ADD.format(rows="new_rows", label="r.payer_name", sign="1")}
    END IF;
    RETURN NULL;
END $$
""",
    "CREATE TRIGGER claim_summary_insert AFTER INSERT ON remittance_claims "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION claim_summary_change()",
    "CREATE TRIGGER claim_summary_delete AFTER DELETE ON remittance_claims "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION claim_summary_change()",
    "CREATE TRIGGER claim_summary_update AFTER UPDATE ON remittance_claims "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION claim_summary_change()",
]


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "dashboard_case_facts",
        sa.Column("case_id", _text(64), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("denied_on", sa.Date(), nullable=False),
        sa.Column("payer_id", _text(80), nullable=False),
        sa.Column("payer_name", _text(200), nullable=False),
        sa.Column("category", _text(40), nullable=False),
        sa.Column("carc", _text(16), nullable=False),
        sa.Column("provider", _text(20), nullable=False),
        sa.Column("claim_id", _text(80), nullable=False),
        sa.Column("denied_cents", sa.BigInteger(), nullable=False),
        sa.Column("unrecovered_cents", sa.BigInteger(), nullable=False),
        sa.Column("appealed_closed", sa.Boolean(), nullable=False),
        sa.Column("overturned", sa.Boolean(), nullable=False),
        sa.Column("gives_up", sa.Boolean(), nullable=False),
        sa.Column("to_first_action_us", sa.BigInteger(), nullable=True),
        sa.Column("to_close_us", sa.BigInteger(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("next_deadline", sa.Date(), nullable=True),
        sa.Column("deadlines", _text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"]),
        sa.PrimaryKeyConstraint("case_id"),
    )
    facts = "dashboard_case_facts"
    op.create_index(
        "ix_dashboard_case_facts_action", facts, ["counted", "denied_on", "to_first_action_us"]
    )
    op.create_index("ix_dashboard_case_facts_close", facts, ["counted", "denied_on", "to_close_us"])
    op.create_index(
        "ix_dashboard_case_facts_given_up",
        facts,
        ["gives_up", "counted", "denied_on", "claim_id", "payer_id", "unrecovered_cents"],
    )
    op.create_index(
        "ix_dashboard_case_facts_open", "dashboard_case_facts", ["is_open", "next_deadline"]
    )
    op.create_table(
        "dashboard_summary",
        sa.Column("dimension", _text(12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", _text(80), nullable=False),
        sa.Column("label", _text(200), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("appealed_closed", sa.Integer(), nullable=False),
        sa.Column("overturned", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "day", "key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "claim_summary",
        sa.Column("dimension", _text(12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", _text(80), nullable=False),
        sa.Column("is_denial", sa.Boolean(), nullable=False),
        sa.Column("label", _text(200), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "day", "key", "is_denial"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("remittance_claims") as table:
        table.drop_index("ix_remittance_claims_claim_payer")
        table.create_index(
            "ix_remittance_claims_claim_payer",
            ["claim_id", "payer_id", "remittance_date", "service_date"],
        )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(_BACKFILL_CLAIMS.format(cents="round(billed_amount * 100)"))
    # The cases already projected are counted by migration 0027, once the facts have all
    # their columns (the projection's code, which counts them, writes every column).


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER claim_summary_insert ON remittance_claims")
        op.execute("DROP TRIGGER claim_summary_update ON remittance_claims")
        op.execute("DROP TRIGGER claim_summary_delete ON remittance_claims")
        op.execute("DROP FUNCTION claim_summary_change()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER claim_summary_{name}")
    with op.batch_alter_table("remittance_claims") as table:
        table.drop_index("ix_remittance_claims_claim_payer")
        table.create_index("ix_remittance_claims_claim_payer", ["claim_id", "payer_id"])
    op.drop_table("claim_summary")
    op.drop_table("dashboard_summary")
    op.drop_table("dashboard_case_facts")
