"""Denial KPIs over HTTP (JSON and CSV), the dashboard and prevention pages, and a case that
triage finds to be part of a pattern joining that pattern's prevention item."""

from __future__ import annotations

import re
from datetime import timedelta

from testkit.records import make_record
from tests.analytics_history import History, period, seed_known_history
from tests.api.conftest import Api, as_user, problem
from tests.api.polling import eventually
from tests.harness import CaseHarness
from tests.login_form import post_login

ALICE, SAM, ADA = as_user("alice"), as_user("sam"), as_user("ada")
SINCE, UNTIL = (day.isoformat() for day in period(2001))


async def test_kpis_and_csv_for_a_known_history(api: Api, harness: CaseHarness) -> None:
    seed_known_history(harness.engine, await harness.today(), 2001)
    params = {"since": SINCE, "until": UNTIL}

    response = await api.http.get("/api/v1/metrics", params=params, headers=ALICE)
    assert response.status_code == 200, response.text
    board = response.json()
    kpis = {kpi["name"]: kpi for kpi in board["kpis"]}
    assert (
        kpis["initial_denial_rate"]["numerator"],
        kpis["initial_denial_rate"]["denominator"],
    ) == (5, 30)
    assert kpis["overturn_rate"]["value"] == 2 / 3 and kpis["overturn_rate"]["target"] == 0.65
    assert kpis["write_off_rate"]["value"] == 2100 / 25000
    assert [row["key"] for row in board["by_category"]] == [
        "authorization",
        "coding",
        "eligibility",
    ]
    assert board["period"] == {"since": SINCE, "until": UNTIL}

    csv = await api.http.get("/api/v1/metrics/kpis.csv", params=params, headers=SAM)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert f'filename="denials-kpis-{SINCE}-{UNTIL}.csv"' in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0] == "name,label,unit,value,target,direction,met,numerator,denominator"
    assert lines[3].startswith(
        "write_off_rate,Denial write-off rate,percent,0.084,0.03,below,False"
    )

    assert (await api.http.get("/api/v1/metrics", headers=ADA)).status_code == 403
    wrong = await api.http.get(
        "/api/v1/metrics", params={"since": UNTIL, "until": SINCE}, headers=SAM
    )
    assert problem(wrong) == f"since: {UNTIL} is after until {SINCE}"
    unknown = await api.http.get("/api/v1/metrics/nothing.csv", headers=SAM)
    assert unknown.status_code == 422


async def test_a_recurring_denial_joins_its_patterns_prevention_item(
    api: Api, harness: CaseHarness
) -> None:
    """Four earlier CO-50 denials from the same payer: the fifth is a pattern (threshold 5), its
    root cause says so, and its prevention item is the pattern's, with the specific action."""
    today = await harness.today()
    history = History(harness.engine)
    for n in range(4):
        history.case(
            n, "COM-TEST", today - timedelta(days=20), "200", carc="CO-50",
            category="medical_necessity", npi=f"{n}", procedure=f"P{n}", outcome="written_off",
        )  # fmt: skip
    case_id, detail = await api.opened_triaged(make_record(today, billed=1000))
    suggested = detail["state"]["suggested_root_cause"]
    assert suggested["pattern"] is True
    assert suggested["pattern_key"] == "payer_carc|COM-TEST|CO-50"
    assert suggested["evidence"].startswith("pattern: 5 denials in 90 days")

    cancel = await api.http.post(
        f"/api/v1/cases/{case_id}/cancel", json={"reason": "entered twice"}, headers=SAM
    )
    assert cancel.status_code == 200, cancel.text

    async def items() -> list[dict[str, object]]:
        response = await api.http.get("/api/v1/prevention", headers=SAM)
        return response.json()["items"]  # type: ignore[no-any-return]

    [item] = await eventually(items, lambda found: len(found) == 1, what="the prevention item")
    assert item["pattern_key"] == "payer_carc|COM-TEST|CO-50"
    assert item["pattern"] == "payer Commercial Test denying with CO-50"
    assert str(item["recommended_action"]).startswith(
        "Add a documentation template for the denied procedures meeting Commercial Test's"
    )

    # The board and the item page show it; sam moves it to done from the item page.
    signed_in = await post_login(api.http, {"username": "sam", "password": "demo"})
    assert signed_in.status_code == 303
    case_page = await api.http.get(f"/cases/{case_id}")
    assert "· pattern" in case_page.text and "pattern: 5 denials in 90 days" in case_page.text
    board = await api.http.get("/prevention")
    assert board.status_code == 200 and "payer Commercial Test denying with CO-50" in board.text
    page = await api.http.get(f"/prevention/{item['prevention_task_id']}")
    assert page.status_code == 200 and "Work this item" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    done = await api.http.post(
        f"/prevention/{item['prevention_task_id']}",
        data={"csrf_token": token.group(1), "status": "done", "owner": "CDI", "notes": "template"},
    )
    assert done.status_code == 303
    after = await api.http.get(f"/prevention/{item['prevention_task_id']}")
    assert "Did it work?" in after.text and "Work this item" not in after.text
    dashboard = await api.http.get("/dashboard")
    assert dashboard.status_code == 200
    assert "<svg" in dashboard.text and "Initial denial rate" in dashboard.text
    bad = await api.http.get("/dashboard", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since: &#39;yesterday&#39; is not a date" in bad.text
