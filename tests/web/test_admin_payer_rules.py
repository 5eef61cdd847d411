"""The admin's payer rule pages in-process (no open cases here: the browser test previews the
demo's): the versions per payer, a new version's form with every problem shown beside its
field, the preview before saving (saving what was previewed, or previewing again what was
edited since), the save audited as the API's. Only admins open them."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuditEventRow, PayerRuleVersionRow
from domain.rulebook import Rulebook
from tests.api.test_auth_sessions import Site, csrf_of, serve, web_login
from tests.web.test_admin_users import field_errors

NEW = "/admin/payer-rules/new"


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        assert (await web_login(running, "ada")).status_code == 303
        yield running


def acme(start: date, **changes: str) -> dict[str, str]:
    return {
        "rule_id": "acme-2027",
        "based_on": "commercial-erisa",
        "payer_id": "ACME1",
        "effective_from": start.isoformat(),
        "source": "Acme manual, section 9",
        "level_1_name": "Reconsideration",
        "level_1_filing_days": "90",
        **changes,
    }


async def send(site: Site, data: dict[str, str]) -> httpx.Response:
    token = csrf_of((await site.http.get(NEW)).text)
    return await site.http.post(NEW, data={**data, "csrf_token": token})


def previewed(page: str) -> str:
    match = re.search(r'name="previewed" value="([0-9a-f]+)"', page)
    assert match, "no preview on the page"
    return match.group(1)


def stored(site: Site) -> list[str]:
    with Session(site.engine) as session:
        return list(session.exec(select(PayerRuleVersionRow.rule_id)))


def audited(site: Site) -> list[dict[str, object]]:
    with Session(site.engine) as session:
        rows = session.exec(
            select(AuditEventRow).where(col(AuditEventRow.action) == "payer_rule.add")
        )
        return [row.detail for row in rows]


async def test_versions_listed_per_payer(site: Site) -> None:
    page = await site.http.get("/admin/payer-rules")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert re.search(
        r'<th scope="row">commercial <span[^>]*>\(type default\)</span></th>'
        r"\s*<td>commercial-erisa",
        text,
    )
    assert re.search(r'<th scope="row">payer 87726</th>\s*<td>unitedhealthcare', text)
    assert "/admin/payer-rules/new?based_on=unitedhealthcare" in text
    form = await site.http.get(NEW, params={"based_on": "unitedhealthcare"})
    assert 'name="payer_id" type="text" value="87726"' in form.text
    assert '<option value="unitedhealthcare" selected>' in form.text


async def test_every_problem_shows_beside_its_field(site: Site) -> None:
    """No id, both a payer id and a type, a word for days, level 3 without level 2: all at
    once; then what the rules refuse (a zero filing window) beside its field too."""
    data = acme(
        date(2027, 1, 1),
        rule_id="",
        payer_type="commercial",
        timely_filing_count="ninety",
        level_3_name="Third",
        level_3_filing_days="30",
    )
    response = await send(site, data)
    assert response.status_code == 422
    assert field_errors(response.text) == {
        "rule_id": "give the version an id, such as acme-2027",
        "payer_id": "give either a payer id or a payer type (its default rule)",
        "timely_filing_count": "a whole number of days, such as 90",
        "level_3_name": "fill in level 2 first",
    }
    assert 'value="Acme manual, section 9"' in response.text  # what was typed stays
    zero = await send(site, acme(date(2027, 1, 1), level_1_filing_days="0"))
    assert field_errors(zero.text) == {"level_1_filing_days": "must be at least 1"}
    assert stored(site) == []


async def test_preview_then_save(site: Site) -> None:
    """The preview says what saving does (no open case here to move), and Save stores the
    version previewed; edited after its preview, Save previews again instead of saving."""
    start = date.today() + timedelta(days=30)
    first = await send(site, {**acme(start), "step": "preview"})
    assert first.status_code == 200, first.text
    text = html.unescape(first.text)
    assert "Saving changes no open case's deadlines by itself." in text
    assert "No open case would take this version when recounted." in text
    assert "Save this version" in text
    assert stored(site) == []

    edited = await send(
        site,
        {
            **acme(start, level_1_filing_days="60"),
            "step": "save",
            "previewed": previewed(first.text),
        },
    )
    assert "You changed the version after its preview" in edited.text
    assert stored(site) == []

    saved = await send(
        site,
        {
            **acme(start, level_1_filing_days="60"),
            "step": "save",
            "previewed": previewed(edited.text),
        },
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/admin/payer-rules")
    assert stored(site) == ["acme-2027"]
    assert audited(site) == [{"rule_id": "acme-2027", "effective_from": start.isoformat()}]
    listing = html.unescape((await site.http.get("/admin/payer-rules")).text)
    assert f"Rule version acme-2027 saved, in effect from {start}" in listing
    assert f"acme-2027 from <strong>{start}</strong>" in listing  # scheduled


@pytest.mark.parametrize("who", ["alice", "sam"])
async def test_only_admins_open_the_rule_pages(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook, who: str
) -> None:
    async with serve(sqlite_engine, tmp_path, rulebook) as other:
        assert (await web_login(other, who)).status_code == 303
        for path in ("/admin/payer-rules", NEW):
            assert (await other.http.get(path)).status_code == 403
