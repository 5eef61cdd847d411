"""Loading the demo again (every demo-mode start) opens nothing and audits nothing: a case.open
entry is written when a case opens, or its opening is refused or fails (issue 16, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from db.engine import make_engine, migrate
from db.models import AuditEventRow
from denials.demo import DEMO_ACTOR, demo_records, load_demo
from domain.case import CaseStatus
from domain.identity import case_id_for
from domain.rulebook import Rulebook
from services.errors import Invalid
from services.users import UserService
from testkit.records import adj, make_record
from tests.harness import CaseHarness


def case_opens(harness: CaseHarness) -> list[tuple[str, str | None, str]]:
    with Session(harness.engine) as session:
        rows = session.exec(
            select(AuditEventRow)
            .where(AuditEventRow.action == "case.open")
            .order_by(col(AuditEventRow.id))
        ).all()
        return [(row.outcome, row.case_id, row.user_id) for row in rows]


async def test_loading_the_demo_again_writes_no_audit_entry(
    harness: CaseHarness, rulebook: Rulebook, tmp_path: Path
) -> None:
    today = await harness.today()
    expected = [case_id_for(record) for record in demo_records(today)]
    assert len(expected) == 9
    with Session(harness.engine, expire_on_commit=False) as session:
        cases = harness.case_service(session, rulebook)
        assert await load_demo(cases, UserService(session), today) == 9
    assert case_opens(harness) == [("ok", case_id, "demo") for case_id in expected]
    for case_id in expected:
        await harness.wait_status(harness.client.get_workflow_handle(case_id), CaseStatus.TRIAGED)

    for _ in range(2):  # two more starts in demo mode
        with Session(harness.engine, expire_on_commit=False) as session:
            cases = harness.case_service(session, rulebook)
            assert await load_demo(cases, UserService(session), today) == 0
    assert len(case_opens(harness)) == 9

    # A read model that lacks the case (another process's, before the projection) while its
    # workflow runs: the start finds it already there, which changes nothing either.
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(other)
    with Session(other) as session:
        opened = await harness.case_service(session, rulebook).open_case(
            demo_records(today)[0], DEMO_ACTOR
        )
        assert session.exec(select(AuditEventRow)).all() == []
    other.dispose()
    assert (opened.case_id, opened.created) == (expected[0], False)


async def test_a_refused_opening_is_still_audited(harness: CaseHarness, rulebook: Rulebook) -> None:
    contractual = make_record(
        await harness.today(), adjustments=[adj("CO-45", 500)], paid=500, status="1"
    )
    with Session(harness.engine) as session, pytest.raises(Invalid, match="not a denial"):
        await harness.case_service(session, rulebook).open_case(contractual, DEMO_ACTOR)
    assert case_opens(harness) == [("refused", None, "demo")]
