"""POST /api/v1/ingest/resume is for supervisors (Permission.RESUME_INGESTS): it ingests again
files anyone sent. A biller, who may upload files, is refused and the refusal audited; a
supervisor is answered (nothing unfinished here: nothing resumed). No Temporal is needed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuditEventRow
from domain.rulebook import Rulebook
from tests.api.test_auth_sessions import Site, serve

RESUME = "/api/v1/ingest/resume"


async def test_a_biller_is_refused_and_a_supervisor_answered(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook
) -> None:
    async with serve(sqlite_engine, tmp_path, rulebook) as site:
        refused = await site.http.post(RESUME, headers=site.bearer("alice"))
        assert (refused.status_code, refused.json()) == (
            403,
            {"detail": "role 'biller' lacks the 'resume_ingests' permission"},
        )
        assert refusals(site) == [
            ("alice", {"method": "POST", "path": RESUME, "permission": "resume_ingests"})
        ]
        admin = await site.http.post(RESUME, headers=site.bearer("ada"))
        assert admin.status_code == 403
        answered = await site.http.post(RESUME, headers=site.bearer("sam"))
        assert answered.status_code == 200, answered.text
        assert (answered.json()["files"], answered.json()["reports"]) == (0, [])


def refusals(site: Site) -> list[tuple[str, dict[str, object]]]:
    with Session(site.engine) as session:
        rows = session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.action == "access.refused")
            .order_by(col(AuditEventRow.id))
        ).all()
    return [(row.user_id, row.detail) for row in rows]
