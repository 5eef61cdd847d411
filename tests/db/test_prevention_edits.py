"""Stored prevention edits: versions kept, switched on and off, hits counted per version."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.prevention_edits import (
    active_edits,
    add_edit,
    current_row,
    edit_versions,
    record_edit_hits,
    revise_edit,
    switch_edit,
)
from domain.claim_checks.edits import EditCondition, EditDraft
from domain.claim_checks.findings import Severity
from tests.prevention_items import add_prevention_item


def _item(session: Session) -> str:
    item_id = add_prevention_item(session, payer_id="ACME", action="Add GP")
    return item_id


def _draft(code: str, severity: Severity = Severity.BLOCK) -> EditDraft:
    return EditDraft(
        severity=severity,
        condition=EditCondition(procedure_codes=(code,), modifier_missing="GP"),
        fix="Add GP",
    )


def _active(session: Session, item_id: str) -> list[str]:
    return [e.code for e in active_edits(session) if e.prevention_task_id == item_id]


def test_versions_switching_and_hits(engine: Engine) -> None:
    with Session(engine) as session:
        item_id = _item(session)
        first = add_edit(session, item_id, _draft("97110"), "sam")
        session.commit()
        assert _active(session, item_id) == [f"{first.edit_id}@v1"]

        row = current_row(session, first.edit_id)
        assert row is not None
        second = revise_edit(session, row, _draft("97140", Severity.WARN), "sam")
        session.commit()
        assert second.version == 2
        assert _active(session, item_id) == [f"{first.edit_id}@v2"]
        [active] = [e for e in active_edits(session) if e.edit_id == first.edit_id]
        assert active.condition.procedure_codes == ("97140",)
        assert active.severity is Severity.WARN

        record_edit_hits(
            session,
            {f"{first.edit_id}@v1": 2, f"{first.edit_id}@v2": 3, "timely_filing": 9, "x@v1": 1},
        )
        record_edit_hits(session, {f"{first.edit_id}@v2": 1})
        session.commit()
        versions = {v.version: v for v in edit_versions(session, item_id)}
        assert (versions[1].hits, versions[1].is_current) == (2, False)
        assert (versions[2].hits, versions[2].is_current) == (4, True)
        assert versions[2].last_hit_at is not None
        assert versions[1].condition.procedure_codes == ("97110",)  # the old one kept as it was

        row = current_row(session, first.edit_id)
        assert row is not None
        switch_edit(session, row, False)
        session.commit()
        assert _active(session, item_id) == []
        row = current_row(session, first.edit_id)
        assert row is not None and row.version == 2  # switching is not a new version
        switch_edit(session, row, True)
        session.commit()
        assert _active(session, item_id) == [f"{first.edit_id}@v2"]


def test_an_items_edits_are_listed_oldest_edit_first_newest_version_first(engine: Engine) -> None:
    with Session(engine) as session:
        item_id = _item(session)
        one = add_edit(session, item_id, _draft("97110"), "sam")
        two = add_edit(session, item_id, _draft("97112"), "sam")
        row = current_row(session, one.edit_id)
        assert row is not None
        revise_edit(session, row, _draft("97140"), "sam")
        session.commit()
        listed = [(v.edit_id, v.version) for v in edit_versions(session, item_id)]
        assert listed == [(one.edit_id, 2), (one.edit_id, 1), (two.edit_id, 1)]
