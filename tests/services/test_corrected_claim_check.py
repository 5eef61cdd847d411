"""A corrected claim is checked as the 837 it builds before it is sent: a prevention edit on
the board blocks the next matching claim (refused with its fix, the hit counted), a claim the
edit no longer matches goes through, and checking from the task counts nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.prevention_edits import edit_versions
from domain.appeals.corrections import ClaimCorrections, LineCorrection
from domain.case import Actor, Role
from domain.claim_checks.findings import FindingKind, Severity
from domain.models import Category, PayerType
from domain.rulebook import Rulebook
from edi.claim837 import Submitter
from services.audit import AuditService
from services.corrected_claim_check import ClaimBlocked, CorrectedClaimCheck
from services.prevention import PreventionService
from tests.domain.appeals.case_builder import letter_case
from tests.prevention_items import add_prevention_item

SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
ALICE = Actor(user_id="alice", role=Role.BILLER)
SENT_ON = date(2026, 2, 20)


def _item_with_edit(session: Session, payer_id: str) -> str:
    """A prevention item whose edit blocks 99215 for this payer without modifier GT."""
    item_id = add_prevention_item(session, payer_id=payer_id, action="Add GT")
    session.commit()
    PreventionService(session, AuditService(session)).write_edit(
        item_id,
        {
            "severity": "block",
            "fix": "Add modifier GT for telehealth visits",
            "condition": {
                "payer_ids": payer_id,
                "procedure_codes": "99215",
                "modifier_missing": "GT",
            },
        },
        SAM,
    )
    return item_id


def test_an_edit_blocks_the_next_matching_corrected_claim_and_counts_its_hit(
    sqlite_engine: Engine, rulebook: Rulebook
) -> None:
    state = letter_case(rulebook, Category.CODING, payer_type=PayerType.COMMERCIAL)
    with Session(sqlite_engine) as session:
        item_id = _item_with_edit(session, state.record.claim.payer.payer_id)
        check = CorrectedClaimCheck(
            session, lambda: rulebook.registry, Submitter(), AuditService(session)
        )
        same = ClaimCorrections(diagnosis_codes=["E11.9"])

        previewed = check.check(state, same, SENT_ON)
        assert previewed is not None and previewed.blocked
        [edit_finding] = [f for f in previewed.findings if f.kind is FindingKind.PREVENTION_EDIT]
        assert (edit_finding.severity, edit_finding.line_number) == (Severity.BLOCK, 1)
        assert edit_versions(session, item_id)[0].hits == 0  # a preview counts nothing

        with pytest.raises(ClaimBlocked) as blocked:
            check.gate(state, same, SENT_ON, ALICE)
        assert "Add modifier GT for telehealth visits" in blocked.value.message
        assert "line 1: " in blocked.value.message
        assert edit_versions(session, item_id)[0].hits == 1

        fixed = ClaimCorrections(
            diagnosis_codes=["E11.9"], lines=[LineCorrection(line_number=1, modifiers=["GT"])]
        )
        passed = check.gate(state, fixed, SENT_ON, ALICE)
        assert passed is not None and not passed.blocked
        assert edit_versions(session, item_id)[0].hits == 1


def test_corrections_that_cannot_build_a_claim_are_left_to_the_workflow(
    sqlite_engine: Engine, rulebook: Rulebook
) -> None:
    state = letter_case(rulebook, Category.CODING)
    with Session(sqlite_engine) as session:
        check = CorrectedClaimCheck(
            session, lambda: rulebook.registry, Submitter(), AuditService(session)
        )
        unknown_line = ClaimCorrections(
            diagnosis_codes=["E11.9"], lines=[LineCorrection(line_number=9, units=2)]
        )
        assert check.problem(state, unknown_line, SENT_ON)
        assert check.check(state, unknown_line, SENT_ON) is None
        assert check.gate(state, unknown_line, SENT_ON, ALICE) is None
