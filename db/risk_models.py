"""Learned risk models as stored: every trained version with its metrics and its bytes (a
joblib dump, checked against its SHA-256 when loaded), and which one checks use. Imported by
db.models so that its table is on the one metadata.

A version is never changed once written; activating one switches `active` off on the others in
the same transaction, so at most one is active."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint, func, update
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col, select

from db.types import UTCDateTime


class RiskModelRow(SQLModel, table=True):
    __tablename__ = "risk_models"
    __table_args__ = (UniqueConstraint("number", name="uq_risk_models_number"),)

    version: str = Field(primary_key=True, max_length=40)
    number: int  # 1, 2, ...: the version's order
    trained_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    trigger: str = Field(max_length=20)  # schedule / on demand / command line
    lines: int  # adjudicated lines it learned from
    metrics: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    sha256: str = Field(max_length=64)
    size: int
    model: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    active: bool = Field(default=False, index=True)
    note: str = ""  # why it was not activated, when it was not


@dataclass(frozen=True)
class StoredModel:
    version: str
    number: int
    trained_at: datetime
    trigger: str
    lines: int
    metrics: dict[str, Any]
    sha256: str
    size: int
    active: bool
    note: str


class CorruptModel(RuntimeError):
    """The stored bytes do not match their checksum."""


def _stored(row: RiskModelRow) -> StoredModel:
    return StoredModel(
        version=row.version,
        number=row.number,
        trained_at=row.trained_at,
        trigger=row.trigger,
        lines=row.lines,
        metrics=dict(row.metrics),
        sha256=row.sha256,
        size=row.size,
        active=row.active,
        note=row.note,
    )


def save_model(
    session: Session,
    blob: bytes,
    *,
    lines: int,
    metrics: dict[str, Any],
    trigger: str,
    activate: bool,
    note: str = "",
) -> StoredModel:
    """Store a new version (numbered after the last) and, when `activate`, make it the one in
    use. The caller commits."""
    last = session.exec(select(func.max(RiskModelRow.number))).one()
    number = (last or 0) + 1
    if activate:
        session.exec(update(RiskModelRow).values(active=False))  # type: ignore[call-overload]
    row = RiskModelRow(
        version=f"risk-v{number}",
        number=number,
        trained_at=datetime.now(UTC),
        trigger=trigger,
        lines=lines,
        metrics=metrics,
        sha256=hashlib.sha256(blob).hexdigest(),
        size=len(blob),
        model=blob,
        active=activate,
        note=note,
    )
    session.add(row)
    session.flush()
    return _stored(row)


def activate(session: Session, version: str) -> StoredModel | None:
    """Make a stored version the one in use (a rollback to an older one, say); None when there
    is no such version. The caller commits."""
    row = session.get(RiskModelRow, version)
    if row is None:
        return None
    session.exec(update(RiskModelRow).values(active=False))  # type: ignore[call-overload]
    row.active = True
    session.add(row)
    session.flush()
    return _stored(row)


def stored_models(session: Session, limit: int = 50) -> list[StoredModel]:
    """The newest versions first, without their bytes."""
    rows = session.exec(
        select(RiskModelRow)
        .options(defer(RiskModelRow.model))  # type: ignore[arg-type]
        .order_by(col(RiskModelRow.number).desc())
        .limit(limit)
    ).all()
    return [_stored(row) for row in rows]


def active_version(session: Session) -> tuple[str, str] | None:
    """(version, sha256) of the model in use, without reading its bytes."""
    found = session.exec(
        select(RiskModelRow.version, RiskModelRow.sha256).where(col(RiskModelRow.active))
    ).first()
    return (found[0], found[1]) if found else None


def model_bytes(session: Session, version: str) -> bytes:
    """A stored version's bytes, checked against the checksum written with them."""
    found = session.exec(
        select(RiskModelRow.model, RiskModelRow.sha256).where(RiskModelRow.version == version)
    ).one()
    blob, checksum = bytes(found[0]), found[1]
    if hashlib.sha256(blob).hexdigest() != checksum:
        raise CorruptModel(f"risk model {version}: the stored bytes do not match their SHA-256")
    return blob
