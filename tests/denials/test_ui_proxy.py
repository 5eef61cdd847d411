"""The read-only Web UI proxy on its own: what it forwards, what it refuses without asking the
UI server, the settings it rewrites and what it logs (the real dev server: test_web_ui.py)."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from denials.ui_proxy import DISABLED_SETTINGS, REFUSAL, ReadOnlyWebUI, is_read, route_template

UPSTREAM = "http://ui.internal:4000"
NS = "/api/v1/namespaces/default"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/namespaces/default/workflows/case-1"),
        ("GET", f"{NS}/workflows"),
        ("GET", f"{NS}/workflows/case-1/history"),
        ("HEAD", "/_app/immutable/entry/start.js"),
        ("POST", f"{NS}/workflows/case-1/query/__stack_trace"),
        ("POST", f"{NS}/workflows/a%2Fb/query/__temporal_workflow_metadata"),
    ],
)
def test_reads_and_queries_pass(method: str, path: str) -> None:
    assert is_read(method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{NS}/workflows/case-1/terminate"),
        ("POST", f"{NS}/workflows/case-1/cancel"),
        ("POST", f"{NS}/workflows/case-1/signal/payer_response"),
        ("POST", f"{NS}/workflows/case-1/reset"),
        ("POST", f"{NS}/workflows/case-1/update/complete_task"),
        ("POST", f"{NS}/workflows/case-1/pause"),
        ("POST", f"{NS}/workflows/case-1"),  # start
        ("POST", f"{NS}/batch-operations/job-1"),
        ("POST", f"{NS}/schedules/s-1/update"),
        ("DELETE", f"{NS}/schedules/s-1"),
        ("POST", "/api/v1/namespaces/default/update"),
        ("PUT", f"{NS}/workflows/case-1/query/x"),
        ("OPTIONS", f"{NS}/workflows/case-1/query/x"),
        # The UI server's own read-only check only looks for "/query/" in the path.
        ("POST", f"{NS}/workflows/query/terminate"),
        ("POST", f"{NS}/workflows/case-1/query/x/terminate"),
        # Dot segments, plain or encoded, could be normalised into another route.
        ("POST", f"{NS}/workflows/case-1/query/.."),
        ("POST", f"{NS}/workflows/case-1/query/%2E%2E"),
        ("GET", f"{NS}/workflows/../workflows"),
    ],
)
def test_writes_are_refused(method: str, path: str) -> None:
    assert not is_read(method, path)


def test_route_templates_keep_route_words_only() -> None:
    assert route_template(f"{NS}/workflows/case-7f3a/signal/Smith") == (
        "/api/v1/namespaces/{}/workflows/{}/signal/{}"
    )


class Streamed(httpx.AsyncByteStream):
    """A body read as it arrives, like a network one (a bytes body counts as already read)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body


class Upstream:
    """A stand-in UI server: records what reaches it, answers like the real one."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.settings = json.dumps({"DisableWriteActions": False, "Version": "2.54.1"}).encode()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path == "/unreachable":
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/api/v1/settings":
            cookie = ("set-cookie", "_csrf=t1; Path=/")
            return httpx.Response(
                200,
                headers=[("content-type", "application/json"), cookie, cookie],
                stream=Streamed(self.settings),
            )
        return httpx.Response(
            200,
            headers=[("content-encoding", "gzip"), ("content-type", "application/json")],
            stream=Streamed(gzip.compress(b'{"executions": []}')),
        )


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
async def ui(upstream: Upstream) -> AsyncIterator[httpx.AsyncClient]:
    proxy = ReadOnlyWebUI(UPSTREAM, transport=httpx.MockTransport(upstream))
    transport = httpx.ASGITransport(app=proxy)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
        yield client
    await proxy.aclose()


async def test_a_write_is_refused_before_it_reaches_the_ui_server(
    ui: httpx.AsyncClient, upstream: Upstream
) -> None:
    response = await ui.post(f"{NS}/workflows/case-1/terminate", json={"reason": "x"})
    assert response.status_code == 403
    assert response.json() == {"code": 7, "message": REFUSAL, "details": []}
    assert upstream.seen == []


async def test_reads_are_forwarded_as_sent(ui: httpx.AsyncClient, upstream: Upstream) -> None:
    response = await ui.get(
        f"{NS}/workflows",
        params={"query": 'WorkflowId="case-1"'},
        headers={"x-csrf-token": "t1", "x-http-method-override": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"  # passed through, not re-encoded
    assert response.json() == {"executions": []}
    (seen,) = upstream.seen
    assert str(seen.url) == f"{UPSTREAM}{NS}/workflows?query=WorkflowId%3D%22case-1%22"
    assert seen.headers["x-csrf-token"] == "t1"
    assert "x-http-method-override" not in seen.headers  # grpc-gateway would honour it


async def test_a_query_is_forwarded_with_its_body(
    ui: httpx.AsyncClient, upstream: Upstream
) -> None:
    path = f"{NS}/workflows/a%2Fb/query/__stack_trace"
    response = await ui.post(path, json={"query": {}})
    assert response.status_code == 200
    (seen,) = upstream.seen
    assert seen.method == "POST"
    assert seen.url.raw_path == path.encode()  # the encoded "/" stays in its segment
    assert json.loads(seen.content) == {"query": {}}


async def test_settings_say_write_actions_are_disabled(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/api/v1/settings", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    settings = response.json()
    assert settings["Version"] == "2.54.1"
    assert all(settings[switch] is True for switch in DISABLED_SETTINGS)
    assert response.headers.get_list("set-cookie") == ["_csrf=t1; Path=/"] * 2
    assert "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize("body", [b"<html>", b"[]"])
async def test_settings_it_cannot_rewrite_are_a_502(
    ui: httpx.AsyncClient, upstream: Upstream, body: bytes
) -> None:
    upstream.settings = body  # a UI told nothing would offer its write buttons
    assert (await ui.get("/api/v1/settings")).status_code == 502


async def test_an_unreachable_ui_server_is_a_502(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/unreachable")
    assert response.status_code == 502


async def test_logs_name_routes_not_ids_or_searches(
    ui: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # as verbose as can be: httpx would log each URL
    await ui.get(f"{NS}/workflows", params={"query": "Smith"})
    await ui.post(f"{NS}/workflows/case-9c1/terminate?reason=Smith")
    await ui.get("/unreachable", params={"q": "Smith"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST /api/v1/namespaces/{}/workflows/{}/terminate" in logged
    assert "Smith" not in logged
    assert "case-9c1" not in logged
