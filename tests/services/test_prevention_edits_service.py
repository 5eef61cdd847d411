"""Prevention edits through the service: written, revised and switched on an item, refused
with every problem and audited; a done item's effectiveness shows the hits beside the rate."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuditEventRow
from db.prevention_edits import active_edits, record_edit_hits
from domain.case import Actor, Role
from services.audit import AuditService
from services.errors import NotFound
from services.prevention import EditProblems, PreventionService
from tests.prevention_items import add_prevention_item

SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
EDIT: dict[str, Any] = {
    "severity": "block",
    "fix": "Add modifier GP to the therapy lines",
    "condition": {"payer_ids": ["ACME"], "procedure_codes": "97110", "modifier_missing": "GP"},
}


def _item(session: Session, done: bool = False) -> str:
    item_id = add_prevention_item(session, payer_id="ACME", action="Add GP", done=done)
    session.commit()
    return item_id


def _audit(session: Session, item_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    rows = session.exec(select(AuditEventRow).order_by(col(AuditEventRow.id))).all()
    return [
        (row.action, row.outcome, row.detail)
        for row in rows
        if row.detail.get("prevention_task_id") == item_id and row.action != "prevention.view"
    ]


def test_write_revise_switch_and_read_back(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        service = PreventionService(session, AuditService(session))
        item_id = _item(session)
        first = service.write_edit(item_id, EDIT, SAM)
        assert (first.version, first.written_by, first.enabled) == (1, "sam", True)
        revised = service.write_edit(
            item_id, {**EDIT, "severity": "warn"}, SAM, edit_id=first.edit_id
        )
        assert (revised.edit_id, revised.version) == (first.edit_id, 2)
        off = service.switch_edit(item_id, first.edit_id, False, SAM)
        assert (off.version, off.enabled) == (2, False)
        assert first.edit_id not in {e.edit_id for e in active_edits(session)}

        detail = service.get(item_id, SAM)
        assert [(e.version, e.is_current) for e in detail.edits] == [(2, True), (1, False)]
        assert [action for action, _, _ in _audit(session, item_id)] == [
            "prevention.edit",
            "prevention.edit",
            "prevention.edit_switch",
        ]
        assert _audit(session, item_id)[1][2]["edit"] == f"{first.edit_id}@v2"


def test_a_refused_edit_names_every_problem_saves_nothing_and_is_audited(
    sqlite_engine: Engine,
) -> None:
    with Session(sqlite_engine) as session:
        service = PreventionService(session, AuditService(session))
        item_id = _item(session)
        bad = {"severity": "stop", "fix": "", "condition": {"units_over": "many"}}
        with pytest.raises(EditProblems) as refused:
            service.write_edit(item_id, bad, SAM)
        assert set(refused.value.problems) == {"severity", "fix", "units_over"}
        assert service.get(item_id, SAM).edits == []
        [(action, outcome, detail)] = _audit(session, item_id)
        assert (action, outcome) == ("prevention.edit", "refused")
        assert detail["reason"] == "fix; severity; units_over"


def test_an_edit_of_another_item_or_no_item_is_not_found(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        service = PreventionService(session, AuditService(session))
        mine, other = _item(session), _item(session)
        edit = service.write_edit(mine, EDIT, SAM)
        with pytest.raises(NotFound):
            service.switch_edit(other, edit.edit_id, False, SAM)
        with pytest.raises(NotFound):
            service.write_edit(other, EDIT, SAM, edit_id=edit.edit_id)
        with pytest.raises(NotFound):
            service.write_edit("PV-none", EDIT, SAM)


def test_a_done_items_effectiveness_shows_its_edits_hits(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        service = PreventionService(session, AuditService(session))
        item_id = _item(session, done=True)
        effectiveness = service.get(item_id, SAM).effectiveness
        assert effectiveness is not None and effectiveness.edit_hits is None  # no edit yet
        edit = service.write_edit(item_id, EDIT, SAM)
        assert service.get(item_id, SAM).effectiveness.edit_hits == 0  # type: ignore[union-attr]
        record_edit_hits(session, {edit.code: 3})
        revised = service.write_edit(item_id, EDIT, SAM, edit_id=edit.edit_id)
        record_edit_hits(session, {revised.code: 2})
        session.commit()
        listed = service.list(SAM, owning_team="coding", limit=500)
        [shown] = [item for item in listed.items if item.prevention_task_id == item_id]
        assert shown.effectiveness is not None and shown.effectiveness.edit_hits == 5
