"""The pre-submission check as a service: rules, prevention edits and the risk model over an
837, stored as one run with the edits' hits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.claim_checks import ClaimCheckRunRow, get_run, run_results
from db.prevention_edits import add_edit, current_row
from db.risk_models import save_model
from domain.claim_checks.edits import EditCondition, EditDraft
from domain.claim_checks.findings import (
    ClaimUnderCheck,
    Finding,
    FindingKind,
    Severity,
)
from domain.payer_rules import load_registry
from edi.claims837 import Claims837Error
from services.claim_checks import check_file, run_check
from services.claim_risk.model import train
from testkit.claim_history import generate_history
from testkit.claims837 import one_line_claim, write_claims_837
from tests.prevention_items import add_prevention_item


@dataclass(frozen=True)
class _Assessment:
    probability: float
    findings: tuple[Finding, ...]


class _FakeScorer:
    """Scores 97110 lines without GP as risky (the real model is services.claim_risk)."""

    version = "risk-test-v1"

    def assess(self, claims: Sequence[ClaimUnderCheck]) -> list[_Assessment]:
        out = []
        for claim in claims:
            risky = [line for line in claim.lines if line.procedure_code == "97110"]
            out.append(
                _Assessment(
                    0.8 if risky else 0.05,
                    tuple(
                        Finding(
                            kind=FindingKind.LEARNED_RISK,
                            severity=Severity.WARN,
                            code=self.version,
                            message="Likely denied",
                            evidence="97110 without GP denied 41 of 50",
                            fix="Add GP",
                            line_number=line.line_number,
                            probability=0.8,
                        )
                        for line in risky
                    ),
                )
            )
        return out


def _claim(number: int, code: str = "99213", **changes: object) -> ClaimUnderCheck:
    return one_line_claim(number, code=code, rendering_npi="1234567893", **changes)


def _edit(session: Session) -> str:
    item_id = add_prevention_item(session, payer_id="60054", action="Add GP")
    draft = EditDraft(
        severity=Severity.BLOCK,
        condition=EditCondition(procedure_codes=("97110",), modifier_missing="GP"),
        fix="Add modifier GP",
    )
    edit = add_edit(session, item_id, draft, "sam")
    session.commit()
    return edit.edit_id


def test_a_file_is_checked_stored_and_counts_the_edit_s_hits(sqlite_engine: Engine) -> None:
    raw = write_claims_837(
        [_claim(1), _claim(2, "97110"), _claim(3, frequency_code="7"), _claim(4, "97110")]
    ).encode()
    with Session(sqlite_engine, expire_on_commit=False) as session:
        edit_id = _edit(session)
        checked = run_check(
            session,
            raw,
            registry=load_registry(),
            scorer=_FakeScorer(),
            submitted=date(2025, 3, 10),
            checked_by="sam",
            source="cli",
        )
    by_claim = {r.claim_id: r for r in checked.results}
    assert by_claim["PCN1"].findings == () and not by_claim["PCN1"].blocked
    assert by_claim["PCN1"].denial_probability == 0.05
    assert [f.code for f in by_claim["PCN3"].findings] == ["frequency.original_reference_missing"]
    risky = by_claim["PCN2"].findings
    assert [(f.kind, f.severity) for f in risky] == [
        (FindingKind.PREVENTION_EDIT, Severity.BLOCK),
        (FindingKind.LEARNED_RISK, Severity.WARN),
    ]
    assert risky[0].code == f"{edit_id}@v1" and by_claim["PCN2"].model_version == "risk-test-v1"
    run = checked.run
    assert (run.claims, run.lines, run.blocked, run.warned, run.findings) == (4, 4, 3, 0, 5)
    assert run.model_version == "risk-test-v1" and checked.blocked
    with Session(sqlite_engine) as session:
        stored = get_run(session, run.run_id)
        assert (
            stored is not None
            and stored.file_sha256
            and stored.submission_date == date(2025, 3, 10)
        )
        again = run_results(session, stored)
        assert [r.findings for r in again] == [r.findings for r in checked.results]
        assert [r.position for r in again] == [1, 2, 3, 4]
        row = current_row(session, edit_id)
        assert row is not None and row.hits == 2


def test_without_a_model_the_rules_and_edits_still_run(sqlite_engine: Engine) -> None:
    raw = write_claims_837([_claim(1, frequency_code="8")]).encode()
    with Session(sqlite_engine) as session:
        checked = run_check(
            session,
            raw,
            registry=load_registry(),
            scorer=None,
            submitted=date(2025, 3, 10),
            checked_by="sam",
            source="api",
        )
    (result,) = checked.results
    assert result.denial_probability is None and result.model_version is None
    assert result.blocked and checked.run.model_version is None


def test_a_file_that_cannot_be_read_stores_nothing(sqlite_engine: Engine) -> None:
    raw = write_claims_837([_claim(1), _claim(2)]).replace("SV1*HC:99213", "SV1*HC", 1).encode()
    with Session(sqlite_engine) as session, pytest.raises(Claims837Error, match=r"line [0-9]+"):
        run_check(
            session,
            raw,
            registry=load_registry(),
            scorer=None,
            submitted=date(2025, 3, 10),
            checked_by="sam",
            source="web",
        )
    with Session(sqlite_engine) as session:
        assert session.exec(select(ClaimCheckRunRow)).all() == []


def test_the_active_model_scores_the_claims_and_the_run_names_it(sqlite_engine: Engine) -> None:
    """A model trained on synthetic history where UHC denies 97110 without GP (CO-4), stored as
    the active version: the check takes its findings and probabilities and names the version
    (what the findings say is services.claim_risk's to test)."""
    model = train(generate_history(8_000, seed=3).lines)  # UHC bills 97110 ~80 times
    with Session(sqlite_engine) as session:
        stored = save_model(
            session, model.to_bytes(), lines=1, metrics=model.metrics, trigger="test", activate=True
        )
        session.commit()
    uhc = {"payer_id": "UHC", "payer_name": "UnitedHealthcare"}
    therapy = _claim(1, "97110").model_copy(update=uhc)
    therapy = therapy.model_copy(
        update={
            "lines": (therapy.lines[0].model_copy(update={"units": Decimal(2)}),),
        }
    )
    office = _claim(2, "99213").model_copy(update=uhc)
    raw = write_claims_837([therapy, office]).encode()
    with Session(sqlite_engine) as session:
        checked = check_file(
            session,
            raw,
            registry=load_registry(),
            submitted=date(2025, 3, 10),
            checked_by="sam",
            source="cli",
        )
        again = run_results(session, checked.run)
    risky, plain = checked.results
    assert checked.run.model_version == stored.version == risky.model_version
    (finding,) = [f for f in risky.findings if f.kind is FindingKind.LEARNED_RISK]
    assert finding.code == stored.version and finding.line_number == 1
    assert risky.denial_probability is not None and plain.denial_probability is not None
    assert risky.denial_probability > plain.denial_probability
    assert [r.denial_probability for r in again] == [
        risky.denial_probability,
        plain.denial_probability,
    ]


def test_a_run_is_stored_and_read_back_alike_on_both_databases(engine: Engine) -> None:
    claims = [_claim(1, total_charge=Decimal("100.50")), _claim(2, frequency_code="7")]
    claims[0] = claims[0].model_copy(
        update={"lines": (claims[0].lines[0].model_copy(update={"charge": Decimal("100.50")}),)}
    )
    raw = write_claims_837(claims).encode()
    with Session(engine, expire_on_commit=False) as session:
        checked = run_check(
            session,
            raw,
            registry=load_registry(),
            scorer=None,
            submitted=date(2025, 3, 10),
            checked_by="sam",
            source="api",
        )
    with Session(engine) as session:
        stored = get_run(session, checked.run.run_id)
        assert stored is not None
        again = run_results(session, stored)
    assert [(r.claim_id, r.total_charge, r.kind) for r in again] == [
        ("PCN1", Decimal("100.50"), "professional"),
        ("PCN2", Decimal(100), "professional"),
    ]
    rules = [[f for f in r.findings if f.kind is FindingKind.RULE] for r in again]
    assert rules == [[f for f in r.findings if f.kind is FindingKind.RULE] for r in checked.results]
    assert [f.code for f in rules[1]] == ["frequency.original_reference_missing"]
