"""The access log names routes, never the paths and query strings that carry PHI."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.settings import Settings
from denials.launch import _http_servers
from domain.rulebook import Rulebook
from testkit.records import make_record
from tests.api.conftest import Api, as_user
from tests.harness import CaseHarness


async def test_requests_are_logged_by_route_template_without_query_strings(
    api: Api, harness: CaseHarness, caplog: pytest.LogCaptureFixture
) -> None:
    record = make_record(await harness.today())
    case_id = await api.open_case(record)
    claim = record.claim.claim_id
    with caplog.at_level(logging.INFO, logger="denials.access"):
        await api.http.get(
            "/api/v1/cases", params={"q": "JANE DOE " + claim}, headers=as_user("alice")
        )
        await api.http.get(f"/api/v1/cases/{case_id}?note=MEMBER01", headers=as_user("alice"))
        await api.http.get(f"/cases?q={claim}", headers=as_user("alice"))
    lines = [r.getMessage() for r in caplog.records if r.name == "denials.access"]
    assert lines[0].startswith("GET /api/v1/cases 200 ")
    assert lines[1].startswith("GET /api/v1/cases/{case_id} ")
    assert lines[2].startswith("GET /cases ")
    for line in lines:
        for secret in ("JANE", "DOE", claim, case_id, "MEMBER01", "?"):
            assert secret not in line, line


def test_the_server_writes_no_access_log_of_its_own(
    harness: CaseHarness, rulebook: Rulebook, tmp_path: Path
) -> None:
    """uvicorn's access log writes the request line as received: the server runs without it."""
    settings = Settings(task_queue=harness.task_queue, data_dir=tmp_path)
    [server] = _http_servers(settings, harness.engine, harness.client, rulebook)
    assert server.config.access_log is False
