"""Appeal letter versions in the read model, and the packet (PDF) built from a letter.

Shared by the appeals service (the appeal task and download) and the submission activity
(what is sent), so both build the same packet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import AppealLetterRow
from domain.appeals.finishing import LetterToSend, letter_as_sent
from domain.appeals.letters import LetterFacts
from services.errors import Conflict
from services.packet_pdf import EnclosedFile, PacketContents, render_packet_pdf

GENERATED_BY = "system"


def letter_versions(session: Session, case_id: str, level: int) -> list[AppealLetterRow]:
    statement = (
        select(AppealLetterRow)
        .where(AppealLetterRow.case_id == case_id, AppealLetterRow.appeal_level == level)
        .order_by(col(AppealLetterRow.version))
    )
    return list(session.exec(statement).all())


def latest_letter(session: Session, case_id: str, level: int) -> AppealLetterRow | None:
    versions = letter_versions(session, case_id, level)
    return versions[-1] if versions else None


def add_letter_version(
    session: Session,
    *,
    case_id: str,
    level: int,
    template: str,
    body: str,
    created_by: str,
    created_at: datetime,
    enclosures: list[dict[str, Any]] | None = None,
) -> AppealLetterRow:
    """Keep a new version; two editors saving at once get versions n and n+1, or a conflict."""
    current = session.exec(
        select(func.max(AppealLetterRow.version)).where(
            AppealLetterRow.case_id == case_id, AppealLetterRow.appeal_level == level
        )
    ).one()
    row = AppealLetterRow(
        case_id=case_id,
        appeal_level=level,
        version=(current or 0) + 1,
        template=template,
        body=body,
        enclosures=enclosures,
        created_by=created_by,
        created_at=created_at,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            f"another version of the level {level} letter was saved at the same time: reload"
        ) from exc
    return row


def packet_contents(
    case_id: str,
    facts: LetterFacts,
    letter: LetterToSend,
    generated_at: datetime,
    files: list[EnclosedFile] | None = None,
) -> PacketContents:
    """The packet of `letter`: the letter as sent, what it encloses, and the attached files."""
    return PacketContents(
        case_id=case_id,
        claim_id=facts.claim_id,
        appeal_level=facts.level,
        level_name=facts.level_name,
        letter_version=letter.version,
        letter_by=letter.written_by or GENERATED_BY,
        letter_body=letter_as_sent(letter),
        enclosures=letter.enclosures,
        files=files or [],
        attestation_required=facts.attestation_required,
        attestation=facts.attestation,
        generated_at=generated_at,
    )


def packet_pdf(packet: PacketContents) -> tuple[str, bytes]:
    filename = f"appeal-level{packet.appeal_level}-v{packet.letter_version}.pdf"
    return filename, render_packet_pdf(packet)
