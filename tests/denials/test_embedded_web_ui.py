"""`denials up` serves the embedded Web UI read-only on DENIALS_TEMPORAL_UI_PORT: a demo case
cannot be terminated from it, and the UI is told write actions are off."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from denials.ui_proxy import REFUSAL
from tests.web.stack import Stack, bearer, stack_in

NS = "/api/v1/namespaces/default"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack_in(tmp_path_factory.mktemp("up-web-ui")) as running:
        yield running


def a_demo_case(stack: Stack) -> str:
    cases = httpx.get(
        f"{stack.base_url}/api/v1/cases?status=triaged",
        headers=bearer(stack.base_url, "sam"),
        timeout=30,
    )
    return str(cases.json()["items"][0]["case_id"])


def test_a_case_cannot_be_terminated_from_the_web_ui(stack: Stack) -> None:
    case_id = a_demo_case(stack)
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.temporal_ui_port}", timeout=30) as ui:
        settings = ui.get("/api/v1/settings").json()
        assert settings["DisableWriteActions"] is True
        ui.headers["X-CSRF-Token"] = ui.cookies["_csrf"]
        refused = ui.post(f"{NS}/workflows/{case_id}/terminate", json={"reason": "anonymous"})
        assert (refused.status_code, refused.json()["message"]) == (403, REFUSAL)
        described = ui.get(f"{NS}/workflows/{case_id}")
    assert described.status_code == 200, described.text
    status = described.json()["workflowExecutionInfo"]["status"]
    assert status == "WORKFLOW_EXECUTION_STATUS_RUNNING"
    log = stack.log_text()
    assert "refused POST /api/v1/namespaces/{}/workflows/{}/terminate" in log
