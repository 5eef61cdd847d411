"""Prevention edits on the board, in-process: the supervisor writes one on the item's page
(every problem beside its field, what was typed kept), changes it (a new version) and switches
it off; billers read the edits but get no form and are refused the post; the API under
/api/v1/prevention/{id}/edits answers alike, with FastAPI's 422 shape."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.prevention_edits import active_edits, record_edit_hits
from domain.rulebook import Rulebook
from tests.api.test_auth_sessions import Site, csrf_of, serve, web_login
from tests.prevention_items import add_prevention_item
from tests.web.test_admin_users import field_errors

GOOD = {
    "severity": "block",
    "payer_ids": "ACME",
    "procedure_codes": "97110, 97140",
    "modifier_missing": "gp",
    "fix": "Add modifier GP to the therapy lines",
    "enabled": "on",
}


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        yield running


def make_item(site: Site) -> str:
    with Session(site.engine) as session:
        item_id = add_prevention_item(session, payer_id="ACME", action="Add GP")
        session.commit()
    return item_id


async def post_edit(site: Site, item_id: str, data: dict[str, str], edit_id: str = "") -> str:
    page = await site.http.get(f"/prevention/{item_id}")
    assert page.status_code == 200, page.text
    target = f"/prevention/{item_id}/edits" + (f"/{edit_id}" if edit_id else "")
    response = await site.http.post(target, data={**data, "csrf_token": csrf_of(page.text)})
    return f"{response.status_code}\n{response.text}"


def current(site: Site, item_id: str) -> list[str]:
    with Session(site.engine) as session:
        return [e.code for e in active_edits(session) if e.prevention_task_id == item_id]


async def test_supervisor_writes_changes_and_switches_an_edit(site: Site) -> None:
    assert (await web_login(site, "sam")).status_code == 303
    item_id = make_item(site)
    page = (await site.http.get(f"/prevention/{item_id}")).text
    assert "Write an edit" in page and "No edit yet." in page

    refused = await post_edit(
        site,
        item_id,
        {**GOOD, "severity": "", "units_over": "lots", "rendering_npis": "1234567890", "fix": ""},
    )
    status, body = refused.split("\n", 1)
    assert status == "422"
    errors = field_errors(body)
    assert set(errors) == {"severity", "units_over", "rendering_npis", "fix"}
    assert errors["units_over"] == "lots is not a number of units, such as 4"
    assert "4 things to fix before the edit can be saved" in body
    assert 'value="97110, 97140"' in body  # what was typed stays
    assert current(site, item_id) == []

    saved = await post_edit(site, item_id, GOOD)
    assert saved.startswith("303")
    [code] = current(site, item_id)
    edit_id = code.split("@")[0]
    page = (await site.http.get(f"/prevention/{item_id}")).text
    assert f"<code>{code}</code>" in page
    assert "payer ACME, procedure 97110 or 97140, without modifier GP" in html.unescape(page)

    form = (await site.http.get(f"/prevention/{item_id}?revise={edit_id}")).text
    assert f"Change edit {edit_id} (it becomes version 2)" in form
    assert 'value="97110 97140"' in form and 'value="GP"' in form
    changed = await post_edit(site, item_id, {**GOOD, "units_over": "4"}, edit_id)
    assert changed.startswith("303")
    assert current(site, item_id) == [f"{edit_id}@v2"]
    page = (await site.http.get(f"/prevention/{item_id}")).text
    assert "Earlier versions (1)" in page and f"<code>{edit_id}@v1</code>" in page

    token = csrf_of(page)
    switched = await site.http.post(
        f"/prevention/{item_id}/edits/{edit_id}/switch",
        data={"enabled": "off", "csrf_token": token},
    )
    assert switched.status_code == 303
    assert current(site, item_id) == []
    assert "Switch on" in (await site.http.get(f"/prevention/{item_id}")).text


async def test_a_biller_reads_the_edits_but_cannot_write_one(site: Site) -> None:
    item_id = make_item(site)
    assert (await web_login(site, "alice")).status_code == 303
    page = await site.http.get(f"/prevention/{item_id}")
    assert page.status_code == 200
    assert "Prevention edits" in page.text and "Write an edit" not in page.text
    response = await site.http.post(
        f"/prevention/{item_id}/edits", data={**GOOD, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 403
    assert current(site, item_id) == []


async def test_the_api_writes_revises_switches_and_refuses_by_field(site: Site) -> None:
    item_id = make_item(site)
    base = f"/api/v1/prevention/{item_id}/edits"
    body = {
        "severity": "warn",
        "fix": "Attach the authorization number",
        "condition": {"payer_ids": ["ACME"], "prior_authorization_missing": True},
    }
    for user in ("alice", "ada"):
        assert (await site.http.post(base, json=body, headers=site.bearer(user))).status_code == 403
    sam = site.bearer("sam")
    created = await site.http.post(base, json=body, headers=sam)
    assert created.status_code == 201, created.text
    edit = created.json()
    assert (edit["version"], edit["severity"], edit["enabled"]) == (1, "warn", True)
    assert edit["condition"]["prior_authorization_missing"] is True

    bad = {**body, "condition": {"modifier_missing": "G", "diagnosis_absent": ["M54.5", "5"]}}
    refused = await site.http.post(base, json=bad, headers=sam)
    assert refused.status_code == 422
    located = {tuple(e["loc"]): e["msg"] for e in refused.json()["detail"]}
    assert set(located) == {
        ("body", "condition", "modifier_missing"),
        ("body", "condition", "diagnosis_absent"),
    }
    assert "5 is not an ICD-10 code" in located[("body", "condition", "diagnosis_absent")]

    revised = await site.http.put(f"{base}/{edit['edit_id']}", json=body, headers=sam)
    assert revised.status_code == 200 and revised.json()["version"] == 2
    off = await site.http.patch(f"{base}/{edit['edit_id']}", json={"enabled": False}, headers=sam)
    assert off.status_code == 200 and off.json()["enabled"] is False
    listed = await site.http.get(base, headers=site.bearer("alice"))
    assert listed.status_code == 200
    assert [(e["version"], e["is_current"]) for e in listed.json()] == [(2, True), (1, False)]
    missing = await site.http.patch(f"{base}/PE-000000000000", json={"enabled": True}, headers=sam)
    assert missing.status_code == 404


async def test_a_done_items_edit_hits_show_beside_the_rate_after(site: Site) -> None:
    item_id = make_item(site)
    sam = site.bearer("sam")
    created = await site.http.post(
        f"/api/v1/prevention/{item_id}/edits",
        json={"severity": "warn", "fix": "Add GP", "condition": {"procedure_codes": "97110"}},
        headers=sam,
    )
    assert created.status_code == 201, created.text
    with Session(site.engine) as session:
        record_edit_hits(session, {f"{created.json()['edit_id']}@v1": 2})
        session.commit()
    done = await site.http.patch(
        f"/api/v1/prevention/{item_id}", json={"status": "done"}, headers=sam
    )
    assert done.status_code == 200, done.text
    assert done.json()["effectiveness"]["edit_hits"] == 2
    assert (await web_login(site, "alice")).status_code == 303
    board = (await site.http.get("/prevention?status=done")).text
    assert "edits caught 2" in board
    page = (await site.http.get(f"/prevention/{item_id}")).text
    assert "Caught by its edits" in page
    assert '<td class="num">2</td>' in page
