"""Retraining from the stored history: versions stored with their metrics and checksum, the
active one used by the check; the nightly workflow's activity; the supervisors' API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from activities.risk_models import RiskModelActivities
from db.risk_models import CorruptModel, RiskModelRow, model_bytes, stored_models
from domain.claim_checks.findings import ClaimUnderCheck, LineUnderCheck
from services.claim_risk import NotEnoughHistory, active_scorer, retrain
from tests.analytics_history import History
from tests.api.conftest import Api, api, as_user  # noqa: F401  (the fixture)
from workflows.risk_retrain import ON_DEMAND_ID, RiskRetrainWorkflow

BAD_NPI, GOOD_NPI = "1999999990", "1000000004"


def seed(engine: Engine, today: date, *, cases: bool = False) -> str:
    """A year of one payer's claims: one provider's mostly denied, the others' mostly paid;
    with `cases`, each of that provider's denials has its case (CARC CO-B7)."""
    history = History(engine)
    payer = history.payer("ACME")
    number = 0  # the history numbers its claims C1, C2, ... in the order written
    for days in range(1, 340, 3):  # served 20 days before: all within the year
        day = today - timedelta(days=days)
        history.claims(payer, day, 5, 1 if days % 4 == 1 else 0, "120.00", npi=GOOD_NPI)
        denied = 2 if days % 5 else 1
        history.claims(payer, day, 2, denied, "120.00", npi=BAD_NPI)
        for first in range(number + 6, number + 6 + denied) if cases else ():
            history.case(
                first, payer, day, "120.00", carc="CO-B7", npi=BAD_NPI, claim_id=f"C{first}"
            )
        number += 7
    return payer


def claim(payer: str, npi: str) -> ClaimUnderCheck:
    return ClaimUnderCheck(
        claim_id="PCN-9",
        payer_id=payer,
        rendering_npi=npi,
        service_date_from=date.today(),
        lines=(LineUnderCheck(line_number=1, procedure_code="99213", charge=Decimal(120)),),
    )


def test_versions_are_stored_checked_and_used(sqlite_engine: Engine) -> None:
    payer = seed(sqlite_engine, datetime.now(UTC).date(), cases=True)
    with Session(sqlite_engine) as session:
        assert active_scorer(session) is None
        first = retrain(session, "test")
        assert (first.version, first.active, first.trigger) == ("risk-v1", True, "test")
        assert first.lines == 113 * 7 and first.metrics["held_out_auc"] >= 0.6
        scorer = active_scorer(session)
        assert scorer is not None and scorer.version == "risk-v1"
        bad, good = scorer.assess([claim(payer, BAD_NPI), claim(payer, GOOD_NPI)])
        assert bad.probability > 0.5 > good.probability
        [finding] = bad.findings
        assert finding.code == "risk-v1"
        assert f"denied lines of rendering provider {BAD_NPI} in " in finding.evidence
        assert finding.evidence.endswith("mostly CO-B7")  # the CARC of the claims' cases
        second = retrain(session, "test")
        assert second.version == "risk-v2" and second.active
        assert [(m.version, m.active) for m in stored_models(session)] == [
            ("risk-v2", True),
            ("risk-v1", False),
        ]
        assert active_scorer(session).version == "risk-v2"  # type: ignore[union-attr]
        session.exec(  # type: ignore[call-overload]
            update(RiskModelRow).where(RiskModelRow.version == "risk-v1").values(model=b"x")
        )
        with pytest.raises(CorruptModel, match="risk-v1: the stored bytes do not match"):
            model_bytes(session, "risk-v1")


def test_too_little_history_stores_nothing_and_says_why(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, pytest.raises(NotEnoughHistory, match="has 0 "):
        retrain(session, "test")
    report = RiskModelActivities(sqlite_engine).retrain("schedule")
    assert report.version is None and "at least 200 lines" in report.note
    with Session(sqlite_engine) as session:
        assert stored_models(session) == []


async def test_supervisors_retrain_list_and_roll_back(api: Api) -> None:  # noqa: F811
    seed(api.harness.engine, datetime.now(UTC).date())
    http, sam = api.http, as_user("sam")
    assert (
        await http.post("/api/v1/risk-models/retrain", headers=as_user("alice"))
    ).status_code == 403
    started = await http.post("/api/v1/risk-models/retrain", headers=sam)
    assert started.status_code == 202, started.text
    handle = api.harness.client.get_workflow_handle_for(RiskRetrainWorkflow.run, ON_DEMAND_ID)
    report = await handle.result()
    assert (report.version, report.active) == ("risk-v1", True)
    again = await http.post("/api/v1/risk-models/retrain", headers=sam)
    assert again.status_code == 202, again.text
    assert (await handle.result()).version == "risk-v2"
    listed = await http.get("/api/v1/risk-models", headers=sam)
    assert [(m["version"], m["active"], m["trigger"]) for m in listed.json()] == [
        ("risk-v2", True, "on demand"),
        ("risk-v1", False, "on demand"),
    ]
    assert listed.json()[0]["metrics"]["held_out_auc"] >= 0.6
    back = await http.post("/api/v1/risk-models/risk-v1/activate", headers=sam)
    assert back.status_code == 200 and back.json()["active"]
    missing = await http.post("/api/v1/risk-models/risk-v9/activate", headers=sam)
    assert missing.status_code == 404 and "risk-v9" in missing.json()["detail"]
    assert (await http.get("/api/v1/risk-models", headers=as_user("alice"))).status_code == 403
