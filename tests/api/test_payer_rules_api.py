"""Payer rules over HTTP: everyone who works cases reads the rules in force (with where each
came from); admins add rule versions, which new cases use from their effective date and open
cases move to when a supervisor refreshes their deadlines. Invalid versions are refused with
what is wrong; only admins may add."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from domain.models import Payer, PayerType
from services.payer_rules import _CHECK_EVERY_SECONDS
from testkit.records import make_record
from tests.api.conftest import Api, Json, as_user, problem
from tests.harness import CaseHarness

ALICE, SAM, ADA = as_user("alice"), as_user("sam"), as_user("ada")
SHIPPED = [
    "medicare-ffs",
    "medicare-advantage",
    "medicaid",
    "commercial-erisa",
    "other",
    "unitedhealthcare",
]
ACME = Payer(payer_id="ACME1", name="Acme Health", type=PayerType.COMMERCIAL)


def acme_rule(start: date, **changes: Any) -> Json:
    """A version for payer ACME1 on top of the commercial default, with a 90-day appeal."""
    rule: Json = {
        "id": "acme-2026",
        "payer_id": ACME.payer_id,
        "based_on": "commercial-erisa",
        "effective_from": start.isoformat(),
        "source": "Acme provider manual, section 9",
        "appeal_levels": [
            {"level": 1, "name": "Reconsideration", "filing_days": 90, "decision_days": 30}
        ],
    }
    rule.update(changes)
    return rule


async def list_rules(api: Api, headers: Any = ALICE, **params: str) -> list[Json]:
    response = await api.http.get("/api/v1/payer-rules", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def appeal_due(detail: Json, level: int = 1) -> str:
    [deadline] = [
        d for d in detail["state"]["deadlines"] if d["kind"] == "appeal" and d["level"] == level
    ]
    return deadline["due"]  # type: ignore[no-any-return]


async def audit_actions(api: Api, action: str) -> list[Json]:
    response = await api.http.get("/api/v1/audit", params={"action": action}, headers=SAM)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_shipped_rules_listed_with_origin_and_filters(api: Api) -> None:
    """GET lists the shipped rule versions (oldest first) with their origin file, to billers
    and admins alike; payer_id keeps that payer's own rules plus the payer-type defaults, and
    as_of keeps the versions in effect by then."""
    rules = await list_rules(api)
    assert [r["id"] for r in rules] == SHIPPED
    assert {r["origin"] for r in rules} == {"payer_rules.toml"}
    assert [r["id"] for r in await list_rules(api, ADA)] == SHIPPED
    uhc = next(r for r in rules if r["id"] == "unitedhealthcare")
    assert (uhc["payer_id"], uhc["payer_type"]) == ("87726", None)
    assert uhc["appeal_levels"][0]["filing_days"] == 65
    assert uhc["timely_filing"] == {"days": 90, "months": None}  # inherited (based_on)
    medicare = rules[0]
    assert (medicare["payer_type"], medicare["presumed_receipt_days"]) == ("medicare", 5)
    assert [lvl["level"] for lvl in medicare["appeal_levels"]] == [1, 2, 3, 4, 5]

    by_payer = await list_rules(api, payer_id="87726")
    assert [r["id"] for r in by_payer] == SHIPPED
    other_payer = await list_rules(api, payer_id="SOMEONE")
    assert [r["id"] for r in other_payer] == SHIPPED[:-1]
    assert await list_rules(api, as_of="2024-12-31") == []
    assert [r["id"] for r in await list_rules(api, as_of="2025-01-01")] == SHIPPED
    bad = await api.http.get("/api/v1/payer-rules", params={"as_of": "soon"}, headers=ALICE)
    assert bad.status_code == 422
    anonymous = await api.http.get("/api/v1/payer-rules")
    assert anonymous.status_code == 401


async def test_admin_adds_version_used_by_new_cases(api: Api, harness: CaseHarness) -> None:
    """An admin's version answers 201 with the merged rule, is listed with an origin naming
    the admin, is audited (payer_rule.add), and a case for that payer opened afterwards gets
    its 90-day appeal deadline (remittance + 90 days) instead of the commercial 180."""
    today = await harness.today()
    effective = today - timedelta(days=60)
    response = await api.http.post("/api/v1/payer-rules", json=acme_rule(effective), headers=ADA)
    assert response.status_code == 201, response.text
    added = response.json()
    assert (added["id"], added["payer_id"], added["payer_type"]) == ("acme-2026", "ACME1", None)
    assert added["effective_from"] == effective.isoformat()
    assert added["appeal_levels"] == [
        {
            "level": 1,
            "name": "Reconsideration",
            "filing_days": 90,
            "decision_days": 30,
            "minimum_in_dispute": "0",
        }
    ]
    assert added["corrected_claim"] == {"days": 180, "months": None, "decision_days": 30}
    assert "ada" in added["origin"]

    rules = await list_rules(api, payer_id="ACME1")
    assert [r["id"] for r in rules] == [*SHIPPED[:-1], "acme-2026"]
    listed = rules[-1]
    assert listed["origin"] == "admin ada #1"
    assert {k: v for k, v in listed.items() if k != "origin"} == {
        k: v for k, v in added.items() if k != "origin"
    }
    assert "acme-2026" not in [r["id"] for r in await list_rules(api, payer_id="87726")]
    before = (effective - timedelta(days=1)).isoformat()
    assert "acme-2026" not in [r["id"] for r in await list_rules(api, as_of=before)]

    [event] = await audit_actions(api, "payer_rule.add")
    assert (event["user_id"], event["role"], event["outcome"]) == ("ada", "admin", "ok")
    assert event["detail"] == {"rule_id": "acme-2026", "effective_from": effective.isoformat()}

    remittance = today - timedelta(days=5)
    _, detail = await api.opened_triaged(make_record(today, payer=ACME, remit_days_ago=5))
    assert detail["state"]["rule"]["id"] == "acme-2026"
    assert appeal_due(detail) == (remittance + timedelta(days=90)).isoformat()
    assert detail["summary"]["next_deadline"] == (remittance + timedelta(days=90)).isoformat()
    # Another commercial payer keeps the default 180 days.
    _, other = await api.opened_triaged(make_record(today, remit_days_ago=5))
    assert other["state"]["rule"]["id"] == "commercial-erisa"
    assert appeal_due(other) == (remittance + timedelta(days=180)).isoformat()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"based_on": "no-such-rule"},
            "rule 'acme-2026' is based on unknown rule 'no-such-rule'",
        ),
        (
            {
                "appeal_levels": [
                    {"level": 1, "name": "First", "filing_days": 90},
                    {"level": 3, "name": "Third", "filing_days": 60},
                ]
            },
            "appeal levels must be numbered 1..n in order, got [1, 3]",
        ),
        (
            {"payer_type": "commercial"},
            "a rule applies to exactly one of 'payer_type' or 'payer_id'",
        ),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"effective_from": "someday"}, "effective_from: Input should be a valid date"),
        (
            {"appeal_levels": [{"level": 1, "name": "First", "filing_days": 0}]},
            "appeal_levels.0.filing_days: Input should be greater than or equal to 1",
        ),
    ],
)
async def test_invalid_versions_are_422_naming_the_problem(
    api: Api, harness: CaseHarness, changes: Json, expected: str
) -> None:
    """A version that does not validate (unknown base, levels not 1..n, both a payer type and a
    payer id, an unknown field, a bad date, a zero filing window) answers 422 naming the
    problem, and is not stored."""
    rule = acme_rule(await harness.today(), **changes)
    response = await api.http.post("/api/v1/payer-rules", json=rule, headers=ADA)
    assert expected in problem(response)
    assert [r["id"] for r in await list_rules(api)] == SHIPPED
    assert await audit_actions(api, "payer_rule.add") == []


@pytest.mark.parametrize("based_on", [["commercial-erisa"], {"id": "commercial-erisa"}])
async def test_non_text_based_on_is_422_not_500(
    api: Api, harness: CaseHarness, based_on: object
) -> None:
    """`based_on` must name a rule: a list or an object is refused with 422 like any other
    invalid version (not an unhandled TypeError and a 500)."""
    rule = acme_rule(await harness.today(), based_on=based_on)
    response = await api.http.post("/api/v1/payer-rules", json=rule, headers=ADA)
    assert response.status_code == 422, response.text
    assert "based_on" in response.text or "based on" in response.text
    assert [r["id"] for r in await list_rules(api)] == SHIPPED


@pytest.mark.parametrize("user", ["alice", "sam"])
async def test_only_admins_add_versions(api: Api, harness: CaseHarness, user: str) -> None:
    """Billers and supervisors read the rules but adding a version is 403 (audited as
    access.refused with the permission), and nothing is stored."""
    rule = acme_rule(await harness.today())
    response = await api.http.post("/api/v1/payer-rules", json=rule, headers=as_user(user))
    assert response.status_code == 403
    role = "biller" if user == "alice" else "supervisor"
    assert response.json() == {"detail": f"role '{role}' lacks the 'manage_rules' permission"}
    assert [r["id"] for r in await list_rules(api, as_user(user))] == SHIPPED
    [refused] = await audit_actions(api, "access.refused")
    assert (refused["user_id"], refused["outcome"]) == (user, "refused")
    assert refused["detail"] == {
        "method": "POST",
        "path": "/api/v1/payer-rules",
        "permission": "manage_rules",
    }


async def test_refresh_rules_moves_open_case_to_new_version(api: Api, harness: CaseHarness) -> None:
    """A case opened under the commercial default keeps its 180-day appeal deadline when a
    version for its payer is added; a supervisor's refresh-rules moves it to the new 90 days
    (event deadlines_recomputed naming both rules), as the read model shows at once. Billers
    may not refresh (403)."""
    today = await harness.today()
    remittance = today - timedelta(days=5)
    case_id, detail = await api.opened_triaged(make_record(today, payer=ACME, remit_days_ago=5))
    assert detail["state"]["rule"]["id"] == "commercial-erisa"
    assert appeal_due(detail) == (remittance + timedelta(days=180)).isoformat()

    added = await api.http.post(
        "/api/v1/payer-rules", json=acme_rule(today - timedelta(days=60)), headers=ADA
    )
    assert added.status_code == 201, added.text
    assert appeal_due(await api.detail(case_id)) == (remittance + timedelta(days=180)).isoformat()
    # Workers look for added versions at most every _CHECK_EVERY_SECONDS (by design).
    await asyncio.sleep(_CHECK_EVERY_SECONDS + 0.2)

    url = f"/api/v1/cases/{case_id}/refresh-rules"
    by_biller = await api.http.post(url, headers=ALICE)
    assert by_biller.status_code == 403
    refreshed = await api.http.post(url, headers=SAM)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["changes"] == ["deadlines_recomputed"]
    state = (await api.detail(case_id))["state"]
    assert state["rule"]["id"] == "acme-2026"
    new_due = (remittance + timedelta(days=90)).isoformat()
    [appeal] = [d for d in state["deadlines"] if d["kind"] == "appeal"]
    assert appeal["due"] == new_due

    after = await api.detail(case_id)  # the Update returned after the projection
    assert appeal_due(after) == new_due
    assert after["summary"]["next_deadline"] == new_due
    last = after["timeline"][-1]
    assert (last["type"], last["actor"]) == ("deadlines_recomputed", "sam")
    assert last["message"] == (
        "Deadlines recomputed from payer rule acme-2026 (was commercial-erisa)"
    )
