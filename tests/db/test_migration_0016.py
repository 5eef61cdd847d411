"""Migration 0016: cases projected before the search existed get their search text from their
state documents (claim numbers, patient, member id, payer), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.case_search import CaseSearchRow
from db.engine import alembic_config, migrate
from db.models import CaseRow
from db.projection import case_row_values
from domain.case import CasePolicy, CaseState, CaseStatus
from domain.models import Patient
from testkit.records import make_record

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_existing_cases_get_their_search_text(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0015")
    record = make_record(date(2026, 3, 2), number="0000007")
    claim = record.claim.model_copy(update={"patient": Patient(name="Dóe, Jane", member_id="XQ1")})
    rows = []
    for n in range(3):  # more than one, in case_id order
        state = CaseState(
            case_id=f"case-{n}",
            record=record.model_copy(update={"claim": claim}),
            policy=CasePolicy(),
            status=CaseStatus.TRIAGED,
            version=n + 1,
            created_at=T0,
            updated_at=T0,
        )
        rows.append(case_row_values(state))
    with empty_engine.begin() as connection:
        connection.execute(insert(CaseRow.__table__), rows)  # type: ignore[attr-defined]
    migrate(empty_engine)
    with Session(empty_engine) as session:
        found = session.exec(select(CaseSearchRow).order_by(CaseSearchRow.case_id)).all()
    assert [(r.case_id, r.version) for r in found] == [("case-0", 1), ("case-1", 2), ("case-2", 3)]
    assert found[0].text == (
        "pcn0000007 | icn0000007 | doe, jane | xq1 | commercial test | com-test"
    ), found[0].text
