"""the case search's words found through a trigram index instead of a scan of case_search:
pg_trgm's GIN index on PostgreSQL (where the extension may be created), an FTS5 trigram table
kept by triggers on SQLite (db.case_search)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 23:45:00
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger(__name__)
WORDS = "case_search_words"  # db.case_search.SEARCH_WORDS_TABLE, as of this revision
ADD_ROW = f"INSERT INTO {WORDS}(case_id, text) VALUES (new.case_id, new.text);"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {WORDS} USING fts5(case_id UNINDEXED, text, tokenize='trigram')"
        )
        op.execute(f"INSERT INTO {WORDS}(case_id, text) SELECT case_id, text FROM case_search")
        op.execute(f"CREATE TRIGGER {WORDS}_added AFTER INSERT ON case_search BEGIN {ADD_ROW} END")
        op.execute(
            f"CREATE TRIGGER {WORDS}_changed AFTER UPDATE OF text ON case_search "
            f"WHEN old.text IS NOT new.text BEGIN {ADD_ROW} END"
        )
        return
    try:
        with bind.begin_nested():  # a refusal must not abort the migration's transaction
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        # A hosted database may not allow the extension: the search then scans case_search.
        logger.warning("pg_trgm cannot be created (%s): the case search scans", exc.orig)
        return
    op.execute("CREATE INDEX ix_case_search_text_trgm ON case_search USING gin (text gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {WORDS}_changed")
        op.execute(f"DROP TRIGGER IF EXISTS {WORDS}_added")
        op.execute(f"DROP TABLE IF EXISTS {WORDS}")
        return
    op.execute("DROP INDEX IF EXISTS ix_case_search_text_trgm")
