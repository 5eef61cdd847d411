"""Appeal letter versions in the read model, and the packet (PDF) built from the newest one.

Shared by the appeals service (the biller's editor and download) and the submission activity
(what is sent), so both see the same letter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import AppealLetterRow
from domain.appeals.letters import build_letter_facts, render_letter, with_current_attestation
from domain.case import CaseState
from domain.classification import ClassificationTable
from services.errors import Conflict
from services.packet_pdf import PacketContents, render_packet_pdf

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
    state: CaseState,
    table: ClassificationTable,
    letter: AppealLetterRow | None,
    generated_at: datetime,
    level: int | None = None,
) -> PacketContents:
    """The packet for the case's appeal level: the newest saved letter, else the draft."""
    facts = build_letter_facts(state, table, state.policy.today(generated_at), level)
    if letter is None:
        body, version, by = render_letter(facts).body, 0, GENERATED_BY
    else:
        body = with_current_attestation(letter.body, facts.attestation)
        version, by = letter.version, letter.created_by
    return PacketContents(
        case_id=state.case_id,
        appeal_level=facts.level,
        level_name=facts.level_name,
        letter_version=version,
        letter_by=by,
        letter_body=body,
        enclosures=facts.enclosures,
        attestation_required=facts.attestation_required,
        attestation=facts.attestation,
        generated_at=generated_at,
    )


def packet_pdf(packet: PacketContents) -> tuple[str, bytes]:
    filename = f"appeal-level{packet.appeal_level}-v{packet.letter_version}.pdf"
    return filename, render_packet_pdf(packet)
