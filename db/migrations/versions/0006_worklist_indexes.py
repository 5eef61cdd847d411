"""covering indexes: the worklist's priority order and payer + category filter, and the
root cause pattern counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 11:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PATTERN_INDEXES = {
    "ix_cases_payer_carc_denied_on": ["payer_id", "carc", "denied_on"],
    "ix_cases_npi_carc_denied_on": ["provider_npi", "carc", "denied_on"],
    "ix_cases_procedure_payer_denied_on": ["procedure_code", "payer_id", "denied_on"],
}


def upgrade() -> None:
    # (priority, case_id) is the list's full order, so a page deep in the list is found in
    # the index alone; status rides along for the open-only filter.
    op.drop_index("ix_cases_priority", table_name="cases")
    op.create_index("ix_cases_priority_order", "cases", ["priority", "case_id", "status"])
    op.create_index(
        "ix_cases_payer_category_priority",
        "cases",
        ["payer_id", "category", "priority", "case_id"],
    )
    # Pattern counts filter on outcome and the case id and sum the amount: all covered, so
    # no row is read.
    for name, columns in PATTERN_INDEXES.items():
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", [*columns, "outcome", "denied_amount", "case_id"])


def downgrade() -> None:
    for name, columns in PATTERN_INDEXES.items():
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", columns)
    op.drop_index("ix_cases_payer_category_priority", table_name="cases")
    op.drop_index("ix_cases_priority_order", table_name="cases")
    op.create_index("ix_cases_priority", "cases", ["priority"])
