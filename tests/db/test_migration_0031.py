"""0031 moves each stored file's bytes from ingest_files.content to ingest_file_chunks, a MiB a
row, in order; its downgrade puts them back."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from db import ingest_chunks
from db.engine import alembic_config, make_engine
from tests.db.old_rows import add_ingest_file_as_0011

LARGE = os.urandom(2 * ingest_chunks.CHUNK_BYTES + 12345)


def test_stored_files_move_to_chunks_and_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0030")
    with Session(engine) as session:
        for sha256, content in [("large", LARGE), ("small", b"ISA*00~"), ("empty", b"")]:
            add_ingest_file_as_0011(
                session,
                sha256=sha256,
                filename=f"{sha256}.835",
                size=len(content),
                status="ingested",
                content=content,
                received_by="alice",
                received_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        session.commit()
    command.upgrade(config, "0031")
    assert ingest_chunks.whole(engine, "large") == LARGE
    assert ingest_chunks.whole(engine, "small") == b"ISA*00~"
    assert ingest_chunks.whole(engine, "empty") == b""
    assert [len(chunk) for chunk in ingest_chunks.read(engine, "large")] == [
        ingest_chunks.CHUNK_BYTES,
        ingest_chunks.CHUNK_BYTES,
        12345,
    ]
    command.downgrade(config, "0030")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sha256, content FROM ingest_files"))
        restored = {name: bytes(content) for name, content in rows}
    assert restored == {
        "large": LARGE,
        "small": b"ISA*00~",
        "empty": b"",
    }
    engine.dispose()
