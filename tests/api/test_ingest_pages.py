"""The web ingest pages (issue 14, item 8): a large upload (over 5 MiB; lowered to 20 KB here,
pyx12 takes a minute on 5 MiB) is stored, then ingested in the background; the browser goes to
the file's page, which says how far the ingest has got and reloads itself until the report is
there. Small uploads still show their result at once. The implementation-guide check runs
beside the ingest: the file's page says so, then shows its findings. No Temporal: these files
start no case."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from domain.rulebook import Rulebook
from services import ingest_validation as validation
from testkit.x12 import Claim835, Line835
from tests.api.test_auth_sessions import Site, csrf_of, serve, web_login
from tests.ingest_helpers import GARBAGE, paid_claim, remittance_file
from web.routes import ingest_pages

LARGE = 20_000
CLAIMS = LARGE // 120  # about 124 bytes each


@pytest.fixture
async def site(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Site]:
    monkeypatch.setattr(ingest_pages, "LARGE_UPLOAD_BYTES", LARGE)
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        assert (await web_login(running)).status_code == 303
        yield running


async def upload(site: Site, name: str, raw: bytes) -> httpx.Response:
    token = csrf_of((await site.http.get("/ingest")).text)
    return await site.http.post(
        "/ingest", data={"csrf_token": token}, files=[("files", (name, raw, "text/plain"))]
    )


async def finished_page(site: Site, url: str) -> httpx.Response:
    """The file's page once it no longer reloads itself (the ingest is over)."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        page = await site.http.get(url)
        assert page.status_code == 200, page.text
        if "Refresh" not in page.headers:
            return page
        assert "Being ingested" in page.text or "validation running" in page.text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still being ingested: {page.text[-500:]}")
        await asyncio.sleep(0.1)


def paid_remittance() -> bytes:
    """A valid 835 of paid claims (nothing to start) larger than LARGE."""
    today = datetime.now(UTC).date()
    served = today - timedelta(days=20)
    claims: list[Claim835] = [paid_claim(f"BIG{n:06d}", 200, served) for n in range(CLAIMS)]
    raw = remittance_file(today, *claims, control=77)
    assert len(raw) > LARGE
    return raw


async def test_a_large_upload_is_ingested_in_the_background_with_its_page(site: Site) -> None:
    raw = paid_remittance()
    sha256 = hashlib.sha256(raw).hexdigest()
    response = await upload(site, "big-remit.835", raw)
    assert (response.status_code, response.headers["location"]) == (303, f"/ingest/{sha256}")

    first = await site.http.get(f"/ingest/{sha256}")
    assert first.status_code == 200 and "<h1>big-remit.835</h1>" in first.text
    if "Refresh" in first.headers:  # still running: the stage, and the page reloads
        assert first.headers["Refresh"] == "3"
        assert '<span class="tag status-received">received</span>' in first.text
    page = await finished_page(site, f"/ingest/{sha256}")
    assert '<span class="tag status-ingested">ingested</span>' in page.text
    assert f"{CLAIMS} claims · 0 denials" in page.text

    listing = await site.http.get("/ingest")
    assert f'<a href="/ingest/{sha256}">big-remit.835</a>' in listing.text


async def test_a_large_unreadable_file_shows_its_error_on_its_page(site: Site) -> None:
    raw = GARBAGE * (LARGE // len(GARBAGE) + 1)
    response = await upload(site, "scanned.pdf", raw)
    assert response.status_code == 303
    page = await finished_page(site, response.headers["location"])
    assert '<span class="tag status-failed">failed</span>' in page.text
    assert "not an X12 file" in page.text


async def test_a_small_upload_still_shows_its_result_at_once(site: Site) -> None:
    response = await upload(site, "letter.txt", GARBAGE)
    assert response.status_code == 200
    assert 'aria-labelledby="result-h"' in response.text and "not an X12 file" in response.text


async def test_an_unknown_file_page_is_not_found(site: Site) -> None:
    assert (await site.http.get(f"/ingest/{'0' * 64}")).status_code == 404
    assert (await site.http.get("/ingest/not-a-hash")).status_code == 404


async def test_the_file_page_shows_the_check_running_then_its_findings(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    finish, real = asyncio.Event(), validation._child

    async def held(engine: Engine, sha256: str) -> dict[str, object]:
        await finish.wait()
        return await real(engine, sha256)

    monkeypatch.setattr(validation, "_child", held)
    today = datetime.now(UTC).date()
    paid = [Line835(billed=200, paid=200, service_date=today - timedelta(days=20))]
    # Paid as secondary with a filing indicator pyx12 finds invalid (CLP06): no case.
    raw = remittance_file(today, Claim835("SEC0001", status="2", lines=paid, filing_indicator="CI"))
    sha256 = hashlib.sha256(raw).hexdigest()
    response = await upload(site, "secondary.835", raw)
    assert response.status_code == 200
    assert "Implementation-guide check running" in response.text

    page = await site.http.get(f"/ingest/{sha256}")
    assert '<span class="tag status-ingested">ingested</span>' in page.text
    assert "validation running in the background" in page.text
    assert page.headers["Refresh"] == "3"

    finish.set()
    await asyncio.wait_for(validation.settle(), 60)
    page = await site.http.get(f"/ingest/{sha256}")
    assert "Refresh" not in page.headers
    assert "1 finding" in page.text and "Claim Filing Indicator Code (CLP06)" in page.text
