"""The supervisors' risk models page in-process: the versions with their quality and which one
is in use, a version put back with its button, retraining refused in words while Temporal is
unreachable; billers are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.rulebook import Rulebook
from services.claim_risk import retrain
from tests.api.test_auth_sessions import Site, csrf_of, serve, web_login
from tests.services.claim_risk.test_retrain import seed


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        yield running


def flash(response: object) -> str:
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    return unquote(cookie.split("=", 1)[1].split(";", 1)[0])


async def test_supervisors_see_versions_put_one_back_and_retrain(site: Site) -> None:
    assert (await web_login(site, "sam")).status_code == 303
    empty = await site.http.get("/risk-models")
    assert empty.status_code == 200 and "No model was trained yet" in empty.text
    assert "<strong>0</strong> adjudicated claims served in the last 365 days" in empty.text
    assert "Too few to learn from: a retraining needs at least 200" in empty.text
    seed(site.engine, datetime.now(UTC).date())
    with Session(site.engine) as session:
        retrain(session, "schedule")
        retrain(session, "on demand")
    page = (await site.http.get("/risk-models")).text
    assert "risk-v2" in page and "risk-v1" in page and page.count("<strong>in use</strong>") == 1
    assert "<strong>791</strong> adjudicated claims" in page and "Too few" not in page
    assert 'action="/risk-models/risk-v1/activate"' in page
    assert 'action="/risk-models/risk-v2/activate"' not in page
    token = csrf_of(page)
    back = await site.http.post("/risk-models/risk-v1/activate", data={"csrf_token": token})
    assert back.status_code == 303 and flash(back) == "Checks now use risk model risk-v1"
    assert 'action="/risk-models/risk-v2/activate"' in (await site.http.get("/risk-models")).text
    missing = await site.http.post("/risk-models/risk-v7/activate", data={"csrf_token": token})
    assert flash(missing) == "no risk model version 'risk-v7'"
    # The site's Temporal client points nowhere: the button says so instead of failing.
    refused = await site.http.post("/risk-models/retrain", data={"csrf_token": token})
    assert refused.status_code == 303
    assert flash(refused).startswith("Not retrained: the workflow service (Temporal) is unreach")
    console = (await site.http.get("/supervisor")).text
    assert 'href="/risk-models"' in console


async def test_billers_are_refused(site: Site) -> None:
    assert (await web_login(site, "alice")).status_code == 303
    assert (await site.http.get("/risk-models")).status_code == 403
