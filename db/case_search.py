"""Read-model tables behind the case list's search: the normalised search text of each case
(domain.case_search) and the filters users save. Imported by db.models so that both tables
are on the one metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, UniqueConstraint, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class CaseSearchRow(SQLModel, table=True):
    """One narrow row per case, written with its projection. A search for part of a word
    ('0007' in PCN0000007, 'oe' in Doe) is a LIKE '%word%', which no B-tree index serves.
    Migration 0029 adds a trigram index: on PostgreSQL pg_trgm's GIN index on `text` (where the
    extension may be created; else the LIKE scans this narrow table, not the cases), which the
    planner uses for any word it finds selective; on SQLite an FTS5 trigram table
    (SEARCH_WORDS_TABLE, kept by triggers), consulted through word_candidates."""

    __tablename__ = "case_search"

    case_id: str = Field(foreign_key="cases.case_id", primary_key=True, max_length=64)
    version: int
    text: str = Field(max_length=1000)  # PHI: patient name and member id


# SQLite only: an FTS5 table with the trigram tokenizer over case_search.text (migration 0029).
# Its rows are only added (by triggers on case_search, when a case's text is new or changes):
# a changed text leaves its old row, which may propose a case the LIKE on case_search then
# rejects, never hide one. Not on the models' metadata: SQLite's own virtual table.
SEARCH_WORDS_TABLE = "case_search_words"
# The index names migration 0029 creates beside the models (the schema check skips them).
SEARCH_INDEX_NAMES = frozenset({"ix_case_search_text_trgm"})


def search_index_object(name: str | None) -> bool:
    """Whether a table or index name is part of the search's trigram index (migration 0029)."""
    return name is not None and (name.startswith(SEARCH_WORDS_TABLE) or name in SEARCH_INDEX_NAMES)


class word_candidates(FunctionElement[bool]):
    """The cases whose search text may contain `word` (3+ characters, no GLOB wildcard), found
    in the trigram index: on SQLite `case_search.case_id IN` the FTS5 table's matches, to be
    combined with the LIKE that decides; elsewhere true (PostgreSQL's index serves the LIKE
    itself)."""

    type = Boolean()
    inherit_cache = True
    name = "word_candidates"
    # A condition in itself: without this SQLite gets `... IN (...) = 1`, which its planner
    # cannot serve from the index (it scanned case_search).
    _is_implicitly_boolean = True

    def __init__(self, word: str) -> None:
        super().__init__(literal(f"*{word}*"))


@compiles(word_candidates)
def _anywhere(element: word_candidates, compiler: SQLCompiler, **kw: object) -> str:
    return "1 = 1"


@compiles(word_candidates, "sqlite")
def _on_sqlite(element: word_candidates, compiler: SQLCompiler, **kw: object) -> str:
    pattern = compiler.process(element.clauses, **kw)
    return (
        f"case_search.case_id IN (SELECT case_id FROM {SEARCH_WORDS_TABLE} "
        f"WHERE text GLOB {pattern})"
    )


class SavedCaseFilterRow(SQLModel, table=True):
    """A case-list filter a user named, to apply again (its terms may name a patient)."""

    __tablename__ = "saved_case_filters"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_case_filters_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="users.user_id", max_length=80, index=True)
    name: str = Field(max_length=80)
    filters: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
