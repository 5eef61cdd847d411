"""POST /api/v1/payer-rules/preview: what adding a rule version would do, saving nothing. The
preview tells the truth: the deadlines it lists are those a supervisor's refresh-rules gives
once the version is saved; it names cases by case id only (no PHI for admins)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.payer_rules import _CHECK_EVERY_SECONDS
from testkit.records import make_record
from tests.api.conftest import Api, as_user, problem
from tests.api.test_payer_rules_api import (
    ACME,
    ADA,
    SAM,
    SHIPPED,
    acme_rule,
    appeal_due,
    audit_actions,
    list_rules,
)
from tests.harness import CaseHarness

PREVIEW = "/api/v1/payer-rules/preview"


async def test_preview_lists_what_a_recount_then_gives(api: Api, harness: CaseHarness) -> None:
    """An open Acme case on the commercial default (180-day appeal): the preview of a 90-day
    Acme version lists its appeal deadline moving, saves and audits nothing; once saved, the
    supervisor's recount gives exactly the previewed date. Another payer's case is not
    listed."""
    today = await harness.today()
    remittance = today - timedelta(days=5)
    case_id, detail = await api.opened_triaged(make_record(today, payer=ACME, remit_days_ago=5))
    await api.opened_triaged(make_record(today, remit_days_ago=5))  # another commercial payer
    rule = acme_rule(today - timedelta(days=60))

    response = await api.http.post(PREVIEW, json=rule, headers=ADA)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rule"]["id"], body["recount_on"], body["cases_governed"]) == (
        "acme-2026",
        today.isoformat(),
        1,
    )
    assert body["changes"] == [
        {
            "case_id": case_id,
            "payer_id": "ACME1",
            "deadline": "Appeal level 1",
            "current_due": appeal_due(detail),
            "new_due": (remittance + timedelta(days=90)).isoformat(),
        }
    ]
    assert "PCN" not in response.text and "ZZTEST" not in response.text  # no claim, no patient
    assert [r["id"] for r in await list_rules(api)] == SHIPPED
    assert await audit_actions(api, "payer_rule.add") == []

    saved = await api.http.post("/api/v1/payer-rules", json=rule, headers=ADA)
    assert saved.status_code == 201, saved.text
    await asyncio.sleep(_CHECK_EVERY_SECONDS + 0.2)  # workers look again after this
    refreshed = await api.http.post(f"/api/v1/cases/{case_id}/refresh-rules", headers=SAM)
    assert refreshed.status_code == 200, refreshed.text
    assert appeal_due(await api.detail(case_id)) == body["changes"][0]["new_due"]


async def test_a_future_version_is_previewed_for_its_effective_date(
    api: Api, harness: CaseHarness
) -> None:
    today = await harness.today()
    await api.opened_triaged(make_record(today, payer=ACME, remit_days_ago=5))
    start = today + timedelta(days=10)
    response = await api.http.post(PREVIEW, json=acme_rule(start), headers=ADA)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["recount_on"], body["cases_governed"]) == (start.isoformat(), 1)


async def test_invalid_version_and_other_roles_are_refused(api: Api, harness: CaseHarness) -> None:
    rule = acme_rule(await harness.today())
    bad = await api.http.post(PREVIEW, json={**rule, "based_on": "nothing"}, headers=ADA)
    assert "based on unknown rule 'nothing'" in problem(bad)
    for user in ("alice", "sam"):
        refused = await api.http.post(PREVIEW, json=rule, headers=as_user(user))
        assert refused.status_code == 403
