"""dashboard fast reads (issue 20): each case's fact says whether its claim was adjudicated on
its denial day (so the write-offs look for the claims of the other cases only), kept false
by triggers when a claim is changed or removed; on PostgreSQL the summaries are read from
covering indexes (index-only scans); both summaries gain monthly rows, so that a period
reads its whole months a row each. Every case's fact and sums are built here afresh (0021
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
# The claims' summary gains monthly rows ('payer/m', 'provider/m', dated the first of the
# month) beside the daily ones: 0021's triggers again, each claim also added to its month's.
_SQLITE_DAY = "coalesce({row}.remittance_date, {row}.service_date)"
_SQLITE_SPANS = {"": _SQLITE_DAY, "/m": f"date({_SQLITE_DAY}, 'start of month')"}
_SQLITE_ADD = """
INSERT INTO claim_summary (dimension, day, key, is_denial, label, claims, cents)
VALUES {values}
ON CONFLICT (dimension, day, key, is_denial) DO UPDATE SET
    claims = claims + excluded.claims, cents = cents + excluded.cents,
    label = max(label, excluded.label);
"""
_SQLITE_VALUES = """
    ('{dimension}{suffix}', {day}, {row}.{key}, {row}.is_denial, {label}, {sign},
     {sign} * CAST(round({row}.billed_amount * 100) AS INTEGER))"""


def _sqlite_add(row: str, label: str, sign: str, months: bool) -> str:
    values = [
        _SQLITE_VALUES.format(
            dimension=dimension,
            suffix=suffix,
            day=day.format(row=row),
            row=row,
            key=key,
            label=label if dimension == "payer" else "''",
            sign=sign,
        )
        for suffix, day in _SQLITE_SPANS.items()
        if months or not suffix
        for dimension, key in (("payer", "payer_id"), ("provider", "provider_npi"))
    ]
    return _SQLITE_ADD.format(values=",".join(values))


def _sqlite_claim_triggers(months: bool) -> list[str]:
    new = _sqlite_add("NEW", "NEW.payer_name", "1", months)
    old = _sqlite_add("OLD", "''", "-1", months)
    return [
        f"CREATE TRIGGER claim_summary_insert AFTER INSERT ON remittance_claims BEGIN {new} END",
        f"CREATE TRIGGER claim_summary_delete AFTER DELETE ON remittance_claims BEGIN {old} END",
        "CREATE TRIGGER claim_summary_update AFTER UPDATE ON remittance_claims "
        f"BEGIN {old} {new} END",
    ]


_POSTGRES_ADD = """
    INSERT INTO claim_summary AS s (dimension, day, key, is_denial, label, claims, cents)
    SELECT k.dimension || p.suffix, p.day, k.key, r.is_denial,
           max(k.label), {sign} * count(*), {sign} * sum(round(r.billed_amount * 100))::bigint
    FROM {rows} AS r CROSS JOIN LATERAL (
        VALUES ('payer', r.payer_id, {label}), ('provider', r.provider_npi, '')
    ) AS k(dimension, key, label) CROSS JOIN LATERAL (
        VALUES ('', coalesce(r.remittance_date, r.service_date)){month}
    ) AS p(suffix, day)
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (dimension, day, key, is_denial) DO UPDATE SET
        claims = s.claims + excluded.claims, cents = s.cents + excluded.cents,
        label = greatest(s.label, excluded.label);
"""
_POSTGRES_MONTH = (
    ",\n        ('/m', date_trunc('month', coalesce(r.remittance_date, r.service_date))::date)"
)


def _postgres_claim_function(months: bool) -> str:
    month = _POSTGRES_MONTH if months else ""
    old = _POSTGRES_ADD.format(rows="old_rows", label="''", sign="-1", month=month)
    new = _POSTGRES_ADD.format(rows="new_rows", label="r.payer_name", sign="1", month=month)
    return f"""
CREATE OR REPLACE FUNCTION claim_summary_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {old}
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {new}
    END IF;
    RETURN NULL;
END $$
"""


def _claim_triggers(postgres: bool, months: bool) -> None:
    if postgres:
        op.execute(_postgres_claim_function(months))
        return
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER claim_summary_{event}")
    for statement in _sqlite_claim_triggers(months):
        op.execute(statement)


_BACKFILL_MONTHS = """
INSERT INTO claim_summary (dimension, day, key, is_denial, label, claims, cents)
SELECT dimension || '/m', {month}, key, is_denial, max(label), sum(claims), sum(cents)
FROM claim_summary WHERE dimension IN ('payer', 'provider')
GROUP BY dimension, {month}, key, is_denial
"""
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
    postgres = op.get_bind().dialect.name == "postgresql"
    _claim_triggers(postgres, months=True)
    month = "date_trunc('month', day)::date" if postgres else "date(day, 'start of month')"
    op.execute(_BACKFILL_MONTHS.format(month=month))
    # Every case's fact and summary rows afresh, as the projection counts them from now on
    # (this also counts the cases of a database migrated from before 0021).
    with Session(bind=op.get_bind()) as session:
        rebuild_dashboard(session)
    for statement in _POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in ("update", "delete"):
        on = " ON remittance_claims" if postgres else ""
        op.execute(f"DROP TRIGGER dashboard_fact_claim_{event}{on}")
    if postgres:
        op.execute("DROP FUNCTION dashboard_fact_claim_change()")
    _claim_triggers(postgres, months=False)
    for table in ("claim_summary", "dashboard_summary"):
        op.execute(f"DELETE FROM {table} WHERE dimension LIKE '%/m'")
    op.drop_index("ix_claim_summary_read", "claim_summary")
    op.drop_index("ix_dashboard_summary_read", "dashboard_summary")
    op.drop_index("ix_dashboard_case_facts_claim", _FACTS)
    op.drop_index(_GIVEN_UP, _FACTS)
    op.create_index(_GIVEN_UP, _FACTS, _GIVEN_UP_BEFORE)
    with op.batch_alter_table(_FACTS) as table:
        table.drop_column("adjudicated_that_day")
