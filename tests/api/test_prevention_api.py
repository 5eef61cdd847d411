"""Prevention items over HTTP: a closed case feeds its pattern's item (dollars at stake, case
count, owning team, the category's recommended action); billers and supervisors read them,
supervisors move them open -> in progress -> done; admins do not read them (they hold case
data). Views and changes are audited."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from testkit.records import make_record
from tests.api.conftest import Api, Json, as_user, problem
from tests.api.polling import eventually
from tests.harness import CaseHarness

ALICE, BOB, SAM, ADA = as_user("alice"), as_user("bob"), as_user("sam"), as_user("ada")
CATEGORIES = Path(__file__).parents[2] / "domain" / "data" / "categories.toml"


async def prevention_page(api: Api, headers: Any = SAM, **params: str) -> Json:
    response = await api.http.get("/api/v1/prevention", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def cancelled_case_item(api: Api, harness: CaseHarness) -> tuple[str, Json, Json]:
    """A $1,000 medical-necessity denial cancelled by sam, and its prevention item once the
    workflow has emitted it: (case id, case detail before cancelling, item)."""
    record = make_record(await harness.today(), billed=1000)
    case_id, detail = await api.opened_triaged(record)
    cancel = await api.http.post(
        f"/api/v1/cases/{case_id}/cancel", json={"reason": "entered twice"}, headers=SAM
    )
    assert cancel.status_code == 200, cancel.text
    page = await eventually(
        lambda: prevention_page(api), lambda p: p["total"] == 1, what="the prevention item"
    )
    return case_id, detail, page["items"][0]


async def audit(api: Api, action: str) -> list[Json]:
    response = await api.http.get("/api/v1/audit", params={"action": action}, headers=SAM)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_closed_case_item_listed_and_detailed(api: Api, harness: CaseHarness) -> None:
    """The item lists the pattern (payer, category, root cause), the owning team and the
    category's recommended action from categories.toml, case_count 1 and the denied dollars;
    the detail lists the case with its outcome; filters by status and team apply."""
    case_id, detail, item = await cancelled_case_item(api, harness)
    cause = detail["state"]["suggested_root_cause"]["cause"]
    assert cause.startswith("CO-50: ")
    action = tomllib.loads(CATEGORIES.read_text())["medical_necessity"]["recommended_action"]
    assert item["prevention_task_id"].startswith("PV-")
    assert item["pattern_key"] == f"COM-TEST|medical_necessity|{' '.join(cause.lower().split())}"
    assert (item["payer_id"], item["payer_name"]) == ("COM-TEST", "Commercial Test")
    assert (item["category"], item["root_cause"]) == ("medical_necessity", cause)
    assert item["owning_team"] == "clinical_documentation"
    assert item["recommended_action"] == action
    assert (item["status"], item["owner"], item["notes"]) == ("open", None, "")
    assert item["case_count"] == 1
    assert Decimal(item["dollars_at_stake"]) == Decimal(1000)

    response = await api.http.get(f"/api/v1/prevention/{item['prevention_task_id']}", headers=ALICE)
    assert response.status_code == 200, response.text
    shown = response.json()
    [linked] = shown.pop("cases")
    assert shown.pop("edits") == []  # none written on it yet
    assert shown == item
    assert (linked["case_id"], linked["claim_id"]) == (case_id, detail["summary"]["claim_id"])
    assert linked["outcome"] == "cancelled"
    assert Decimal(linked["denied_amount"]) == Decimal(1000)
    closed = await api.detail(case_id)
    emitted = next(e for e in closed["timeline"] if e["type"] == "prevention_task")
    assert emitted["data"] == {"prevention_task_id": item["prevention_task_id"]}

    assert (await prevention_page(api, ALICE, status="open"))["total"] == 1
    assert (await prevention_page(api, status="done"))["total"] == 0
    assert (await prevention_page(api, owning_team="clinical_documentation"))["total"] == 1
    assert (await prevention_page(api, owning_team="coding"))["total"] == 0
    bad = await api.http.get("/api/v1/prevention", params={"status": "maybe"}, headers=SAM)
    assert bad.status_code == 422
    missing = await api.http.get("/api/v1/prevention/PV-nothing", headers=SAM)
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "no prevention task PV-nothing"},
    )

    [view] = await audit(api, "prevention.view")
    assert (view["user_id"], view["outcome"]) == ("alice", "ok")
    assert view["detail"] == {"prevention_task_id": item["prevention_task_id"]}
    assert len(await audit(api, "prevention.list")) >= 5


async def test_supervisor_works_item_to_done(api: Api, harness: CaseHarness) -> None:
    """sam moves the item open -> in progress (naming its owner and notes) -> done; a done item
    cannot go back (422); billers may not change items (403); each change is audited as
    prevention.change with the new status and owner, the refused one with its reason."""
    _, _, item = await cancelled_case_item(api, harness)
    url = f"/api/v1/prevention/{item['prevention_task_id']}"

    started = await api.http.patch(
        url,
        json={"status": "in_progress", "owner": "dr-lee", "notes": "template drafted"},
        headers=SAM,
    )
    assert started.status_code == 200, started.text
    body = started.json()
    assert (body["status"], body["owner"], body["notes"]) == (
        "in_progress",
        "dr-lee",
        "template drafted",
    )
    assert body["case_count"] == 1 and body["created_at"] == item["created_at"]
    assert body["updated_at"] > item["updated_at"]

    by_biller = await api.http.patch(url, json={"status": "done"}, headers=ALICE)
    assert by_biller.status_code == 403
    assert by_biller.json() == {"detail": "role 'biller' lacks the 'supervise' permission"}

    done = await api.http.patch(url, json={"status": "done"}, headers=SAM)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["owner"]) == ("done", "dr-lee")
    assert done.json()["notes"] == "template drafted"  # untouched when not given

    back = await api.http.patch(url, json={"status": "in_progress"}, headers=SAM)
    assert problem(back) == "status: cannot go from done to in_progress"
    unknown = await api.http.patch(url, json={"status": "archived"}, headers=SAM)
    assert unknown.status_code == 422

    page = await prevention_page(api, status="done")
    assert [(i["status"], i["owner"]) for i in page["items"]] == [("done", "dr-lee")]
    changes = await audit(api, "prevention.change")
    assert [(c["user_id"], c["outcome"], c["detail"]) for c in reversed(changes)] == [
        (
            "sam",
            "ok",
            {
                "prevention_task_id": item["prevention_task_id"],
                "status": "in_progress",
                "owner": "dr-lee",
            },
        ),
        (
            "sam",
            "ok",
            {"prevention_task_id": item["prevention_task_id"], "status": "done", "owner": "dr-lee"},
        ),
        (
            "sam",
            "refused",
            {
                "prevention_task_id": item["prevention_task_id"],
                "reason": "status: cannot go from done to in_progress",
            },
        ),
    ]
    [refused] = await audit(api, "access.refused")
    assert (refused["user_id"], refused["detail"]["method"]) == ("alice", "PATCH")


async def test_admins_do_not_read_prevention_items(api: Api, harness: CaseHarness) -> None:
    """Admins have no case access, so listing or reading prevention items is 403 (audited)."""
    _, _, item = await cancelled_case_item(api, harness)
    listing = await api.http.get("/api/v1/prevention", headers=ADA)
    assert listing.status_code == 403
    assert listing.json() == {"detail": "role 'admin' lacks the 'view_cases' permission"}
    reading = await api.http.get(f"/api/v1/prevention/{item['prevention_task_id']}", headers=ADA)
    assert reading.status_code == 403
    changing = await api.http.patch(
        f"/api/v1/prevention/{item['prevention_task_id']}", json={"notes": "x"}, headers=ADA
    )
    assert changing.status_code == 403
    refused = await audit(api, "access.refused")
    assert sorted((r["user_id"], r["detail"]["method"]) for r in refused) == [
        ("ada", "GET"),
        ("ada", "GET"),
        ("ada", "PATCH"),
    ]
    assert await audit(api, "prevention.view") == []
