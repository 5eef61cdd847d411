"""The read-only Web UI proxy on its own: what it forwards, what it refuses without asking the
UI server, the settings it rewrites and what it logs (the real dev server: test_web_ui.py)."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import AsyncIterator, Iterable
from urllib.parse import unquote

import httpx
import pytest
from starlette.types import Message

from denials.ui_proxy import (
    BAD_PATH,
    DISABLED_SETTINGS,
    MAX_QUERY_BODY,
    MISDIRECTED,
    REFUSAL,
    TOO_LARGE,
    ReadOnlyWebUI,
    is_origin_form,
    is_read,
    route_template,
)

UPSTREAM = "http://ui.internal:4000"
PORT = 8233  # the proxy's own port, as the socket reports it
PUBLIC_URL = "https://temporal.example.org"  # Settings.temporal_ui_base behind a TLS proxy
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
async def proxy(upstream: Upstream) -> AsyncIterator[ReadOnlyWebUI]:
    web_ui = ReadOnlyWebUI(UPSTREAM, public_url=PUBLIC_URL, transport=httpx.MockTransport(upstream))
    yield web_ui
    await web_ui.aclose()


@pytest.fixture
async def ui(proxy: ReadOnlyWebUI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=proxy)  # the scope's server is the base URL's host, port
    async with httpx.AsyncClient(
        transport=transport, base_url=f"http://127.0.0.1:{PORT}"
    ) as client:
        yield client


async def send_raw(
    proxy: ReadOnlyWebUI,
    method: str,
    target: bytes,
    *,
    host: bytes = f"127.0.0.1:{PORT}".encode(),
    body: Iterable[bytes] = (),
) -> tuple[int, bytes]:
    """A request whose target goes in as sent, scoped as uvicorn's h11 server scopes it (httpx
    would read a `#` or an authority itself before the proxy saw them)."""
    raw_path, _, query = target.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", host), (b"content-type", b"application/json")],
        "server": ("127.0.0.1", PORT),
        "client": ("127.0.0.1", 50000),
    }
    chunks = [*body]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks or [b""])
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await proxy(scope, receive, send)
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], content


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


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/", ""),
        ("/namespaces/default/workflows/case-1/", ""),
        (f"{NS}/workflows/a%2Fb/query/__stack_trace", ""),
        ("/_app/immutable/entry/start.Bx1-_~.js", ""),
        (f"{NS}/workflows", "query=WorkflowId%3D%22case-1%22&pageSize=20"),
        ("/api/v1/namespaces/default/schedules/s:1@x", "q=[a]{b}|^`\\/?'"),  # as browsers send
    ],
)
def test_plain_paths_and_queries_pass(path: str, query: str) -> None:
    assert is_origin_form(path, query)


@pytest.mark.parametrize(
    ("method", "target"),
    [
        # httpx would drop "#..." as a fragment: POST .../via-proxy is the start-workflow route.
        ("POST", f"{NS}/workflows/via-proxy#/query/x".encode()),
        ("GET", f"{NS}/workflows?query=x#frag".encode()),
        # httpx would read these as an authority: a GET proxy to any host.
        ("GET", b"@127.0.0.1:9/internal"),
        ("GET", b"http://evil.example/x"),
        ("GET", b"//evil.example/x"),
        ("GET", b"/namespaces//workflows"),
        ("GET", b"/namespaces\\evil.example"),
        ("GET", b"/a\tb"),
        ("GET", b"/caf\xc3\xa9"),
        ("GET", b"/a%zz"),
        ("OPTIONS", b"*"),
    ],
)
async def test_targets_that_are_not_plain_paths_are_refused(
    proxy: ReadOnlyWebUI, upstream: Upstream, method: str, target: bytes
) -> None:
    status, body = await send_raw(proxy, method, target, body=[b"{}"])
    assert (status, json.loads(body)) == (400, {"code": 3, "message": BAD_PATH, "details": []})
    assert upstream.seen == []


async def test_a_query_sent_raw_is_forwarded_as_checked(
    proxy: ReadOnlyWebUI, upstream: Upstream
) -> None:
    target = f"{NS}/workflows/a%2Fb/query/__stack_trace?x=1".encode()
    assert (await send_raw(proxy, "POST", target, body=[b'{"query":', b" {}}"]))[0] == 200
    (seen,) = upstream.seen
    assert (seen.url.host, seen.url.port, seen.url.raw_path) == ("ui.internal", 4000, target)
    assert seen.headers["host"] == "ui.internal:4000"
    assert json.loads(seen.content) == {"query": {}}


@pytest.mark.parametrize(
    "target", ["@evil.example:80/x", "http://evil.example/x", "/a/../b", "/a/./b", "/x?y#z"]
)
def test_an_upstream_url_other_than_the_checked_one_is_not_built(
    proxy: ReadOnlyWebUI, target: str
) -> None:
    # The last check before sending: whatever slips past is_origin_form and is_read.
    assert proxy.upstream_request("GET", target, [], None) is None


def test_the_upstream_request_keeps_the_upstream_host(proxy: ReadOnlyWebUI) -> None:
    outgoing = proxy.upstream_request("GET", "//evil.example/x?y=1", [], None)
    assert outgoing is not None
    assert (outgoing.url.host, outgoing.url.port) == ("ui.internal", 4000)
    assert outgoing.url.raw_path == b"//evil.example/x?y=1"
    assert outgoing.headers["host"] == "ui.internal:4000"
    assert proxy.upstream_request("GET", "/x", [("host", "evil.example")], None) is None


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        (f"127.0.0.1:{PORT}", True),
        (f"localhost:{PORT}", True),
        (f"LocalHost:{PORT}", True),
        (f"[::1]:{PORT}", True),
        ("temporal.example.org", True),
        ("temporal.example.org:443", True),
        # A DNS-rebinding page names its own host; the port alone does not make it ours.
        (f"evil.example:{PORT}", False),
        ("evil.example", False),
        (f"localhost.evil.example:{PORT}", False),
        (f"127.0.0.1.nip.io:{PORT}", False),
        ("127.0.0.1:9999", False),
        ("localhost", False),  # port 80, not the proxy's
        ("temporal.example.org:8443", False),
        (f"127.0.0.1:{PORT}@evil.example", False),
        (f"127.0.0.1:{PORT}, evil.example", False),
        ("", False),
        (None, False),
    ],
)
def test_hosts_the_proxy_answers_to(proxy: ReadOnlyWebUI, host: str | None, allowed: bool) -> None:
    assert proxy.host_allowed(host, PORT) is allowed


def test_without_a_public_url_only_loopback_is_answered() -> None:
    web_ui = ReadOnlyWebUI(UPSTREAM)
    assert web_ui.host_allowed(f"localhost:{PORT}", PORT)
    assert not web_ui.host_allowed("temporal.example.org", PORT)
    assert not web_ui.host_allowed(f"localhost:{PORT}", None)  # no socket port (unix socket)


async def test_a_foreign_host_is_refused_before_the_ui_server_is_asked(
    ui: httpx.AsyncClient, upstream: Upstream
) -> None:
    response = await ui.get(f"{NS}/workflows/case-1/history", headers={"host": "evil.example:8233"})
    assert response.status_code == 421
    assert response.json()["message"] == MISDIRECTED
    assert upstream.seen == []


async def test_an_oversize_query_body_is_refused(
    ui: httpx.AsyncClient, proxy: ReadOnlyWebUI, upstream: Upstream
) -> None:
    path = f"{NS}/workflows/case-1/query/__stack_trace"
    at_most = await ui.post(path, content=b" " * MAX_QUERY_BODY)
    assert at_most.status_code == 200
    too_large = await ui.post(path, content=b" " * (MAX_QUERY_BODY + 1))
    assert (too_large.status_code, too_large.json()["message"]) == (413, TOO_LARGE)
    # Chunked, with no length declared: counted as it arrives.
    chunks = [b" " * (MAX_QUERY_BODY // 4)] * 5
    assert (await send_raw(proxy, "POST", path.encode(), body=chunks))[0] == 413
    assert len(upstream.seen) == 1


async def test_the_proxy_keeps_no_upstream_cookie(
    ui: httpx.AsyncClient, upstream: Upstream
) -> None:
    await ui.get("/api/v1/settings")  # the UI server sets its _csrf cookie here
    ui.cookies.clear()  # a browser that never had it
    await ui.get(f"{NS}/workflows")
    assert "cookie" not in upstream.seen[-1].headers


@pytest.mark.parametrize("upstream_url", ["http://ui.internal:4000/prefix", "ui.internal:4000"])
def test_the_upstream_must_be_a_bare_http_origin(upstream_url: str) -> None:
    with pytest.raises(ValueError, match="upstream"):
        ReadOnlyWebUI(upstream_url)
