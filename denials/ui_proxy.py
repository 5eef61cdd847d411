"""A read-only front for the embedded Temporal Web UI.

`temporal server start-dev` has no switch to disable the Web UI's write actions, and the UI has
no sign-in: anyone reaching its port could terminate, signal or reset a case. So the dev server's
UI listens on an internal loopback port and users reach it through this proxy, which forwards
only reads and refuses every other request with 403.

What it lets through (an allow-list, the same one the UI server applies itself when started
with write actions disabled, made strict):
- GET and HEAD: every GET route of the UI server is a page, an asset, the settings or a read
  RPC of the Temporal HTTP API (describe, list, count, history, schedules, task queues, ...);
- POST `/api/v1/namespaces/{ns}/workflows/{id}/query/{type}`: workflow queries (the stack trace,
  the UI's handler metadata). A query runs read-only handler code and adds nothing to history.

Everything else (terminate, cancel, signal, update, reset, pause, start, batch operations,
schedule and namespace changes, deletes, activity commands) is refused before it reaches the
server. So is, first, any request whose Host names neither loopback on the proxy's port nor the
configured UI address (421: a DNS-rebinding page must not read histories), whose path is not a
strict origin-form path (400: what `is_read` checked must be exactly what the UI server gets;
httpx would read a `#` as a fragment, `@host` or `http://` as an authority), or whose query body
exceeds 1 MiB (413). The outgoing request is checked once more before it is sent: the upstream's
scheme, host and port, and the checked path and query, byte for byte.

`/api/v1/settings` is rewritten to say write actions are disabled, so the UI greys out its
cancel and actions buttons and offers no batch or start-workflow buttons. The proxy's client
keeps no cookies, so one user's `_csrf` cookie is never sent upstream for another.

Logs carry the method, a route template (literal API words only: ids and names become `{}`)
and the status; never a query string.
"""

from __future__ import annotations

import json
import logging
import re
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import unquote

import httpx
import uvicorn
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

log = logging.getLogger("denials.ui_proxy")
# httpx logs every request's full URL at INFO, query string included (workflow searches).
logging.getLogger("httpx").setLevel(logging.WARNING)

SETTINGS_PATH = "/api/v1/settings"
# The UI long-polls a running workflow's history: on shutdown, stop waiting for those reads.
SHUTDOWN_GRACE_SECONDS = 1
READ_METHODS = frozenset({"GET", "HEAD"})
_QUERY = re.compile(r"/api/v1/namespaces/[^/]+/workflows/[^/]+/query/[^/]+")
# A query's input is a few hundred bytes of JSON; the cap keeps a client from filling memory.
MAX_QUERY_BODY = 1 << 20

# RFC 3986 origin-form, strictly: "/"-separated non-empty segments of unreserved characters,
# %XX escapes, sub-delims, ":" and "@". No "#", "\\", space, control or non-ASCII character,
# no "//" (empty segments, or an authority to a URL parser).
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_ORIGIN_PATH = re.compile(rf"/|(?:/{_PCHAR}+)+/?")
# A query string also takes what browsers leave unescaped in one (WHATWG URL): []{}|^`\\.
_QUERY_STRING = re.compile(rf"(?:{_PCHAR}|[/?\[\]{{}}|^`\\])*")

# Host names the proxy answers to on its own port (it listens on 127.0.0.1 only); any other
# name is a page on another site whose DNS now points here (DNS rebinding).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_HOST_HEADER = re.compile(
    r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.\-]+))(?::(?P<port>[0-9]{1,5}))?"
)

# Every switch of the UI's settings that hides a write action.
DISABLED_SETTINGS = (
    "DisableWriteActions",
    "WorkflowTerminateDisabled",
    "WorkflowCancelDisabled",
    "WorkflowSignalDisabled",
    "WorkflowUpdateDisabled",
    "WorkflowResetDisabled",
    "WorkflowPauseDisabled",
    "BatchActionsDisabled",
    "StartWorkflowDisabled",
    "ActivityCommandsDisabled",
)

REFUSAL = (
    "The embedded Temporal Web UI is read-only: it has no sign-in, so it cannot terminate, "
    "cancel, signal, update, reset or start workflows, run batch operations or change "
    "schedules. Work on cases in the case manager."
)
MISDIRECTED = (
    "The embedded Temporal Web UI answers only requests addressed to 127.0.0.1, localhost or "
    "[::1] on its own port, or to DENIALS_TEMPORAL_UI_URL; this one named another host. Open the "
    "UI at one of those addresses, or set DENIALS_TEMPORAL_UI_URL to the one you use."
)
BAD_PATH = (
    "The embedded Temporal Web UI takes only plain paths: a leading '/', then letters, digits, "
    "%XX escapes and URL punctuation, with no '#', backslash, space, control character or '//'."
)
TOO_LARGE = (
    f"A workflow query's input may be at most {MAX_QUERY_BODY // 1024} KiB through the "
    "embedded Temporal Web UI."
)

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Not forwarded upstream: httpx sets the host and length; a method override would turn an
# allowed POST into another method behind our back (grpc-gateway honours it).
_REQUEST_DROPPED = _HOP_BY_HOP | {"host", "content-length", "x-http-method-override"}

# The literal words of the UI's routes; any other path segment is an id or a name.
_WORDS = """api v1 settings namespaces workflows query history history-reverse workflow-count
archived-workflows terminate cancel signal signal-with-start reset update update-options pause
unpause trigger-rule schedules schedule-count matching-times patch batch-operations stop
activities activities-deprecated task-queues search-attributes cluster-info system-info nexus
endpoints deployments worker-deployments worker-deployment-versions workers worker-count
heartbeat complete fail _app immutable assets nodes chunks entry css i18n healthz render auth"""
_ROUTE_WORDS = frozenset(_WORDS.split())


def route_template(path: str) -> str:
    """The path with every segment that is not a literal route word replaced by `{}`."""
    segments = path.split("/")
    return "/".join(s if not s or s in _ROUTE_WORDS else "{}" for s in segments)


def is_read(method: str, raw_path: str) -> bool:
    """Whether a request only reads (see the module docstring). `raw_path` is as sent,
    percent-encoded, so an encoded `/` stays inside its segment as the UI server sees it."""
    if any(unquote(segment) in (".", "..") for segment in raw_path.split("/")):
        return False  # dot segments could resolve to another route once normalised
    if method in READ_METHODS:
        return True
    return method == "POST" and _QUERY.fullmatch(raw_path) is not None


def is_origin_form(raw_path: str, query: str) -> bool:
    """Whether a request target (`raw_path`, `query` as sent) is a strict origin-form path
    and query, which the upstream URL then carries unchanged."""
    return (
        _ORIGIN_PATH.fullmatch(raw_path) is not None and _QUERY_STRING.fullmatch(query) is not None
    )


def host_port(host_header: str) -> tuple[str, int | None] | None:
    """The host (lower case, IPv6 without brackets) and port a Host header names, or None if
    it is malformed."""
    named = _HOST_HEADER.fullmatch(host_header.strip().lower())
    if named is None:
        return None
    port = named["port"]
    return named["v6"] or named["name"], int(port) if port else None


def read_only_settings(settings: dict[str, object]) -> dict[str, object]:
    """The UI's settings with every write action switched off."""
    return {**settings, **dict.fromkeys(DISABLED_SETTINGS, True)}


def _status(http_status: int, grpc_code: int, message: str) -> Response:
    # Shaped like a gRPC status: the UI shows its message.
    return JSONResponse({"code": grpc_code, "message": message, "details": []}, http_status)


def _refused() -> Response:
    return _status(403, 7, REFUSAL)  # 7 = PERMISSION_DENIED


class _NoCookies(DefaultCookiePolicy):
    """The proxy's client keeps no cookie: one it stored (the UI's `_csrf`) would be sent
    upstream with every later request lacking its own, whoever made it."""

    def set_ok(self, cookie: object, request: object) -> bool:
        return False


class ReadOnlyWebUI:
    """ASGI app forwarding reads to the Web UI at `upstream` (e.g. http://127.0.0.1:41234).
    `public_url` is the address users are given (Settings.temporal_ui_base): its host is
    accepted in the Host header besides loopback on the proxy's own port."""

    def __init__(
        self,
        upstream: str,
        *,
        public_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        origin = httpx.URL(upstream)
        if origin.scheme not in ("http", "https") or not origin.host:
            raise ValueError(f"the Web UI upstream must be an http(s) URL, not {upstream!r}")
        if origin.raw_path != b"/" or origin.query or origin.fragment:
            raise ValueError(f"the Web UI upstream must be a bare origin, not {upstream!r}")
        self._origin = origin
        # (host, port, the port a Host header without one means: its scheme's)
        self._public: tuple[str, int, int] | None = None
        if public_url:
            public = httpx.URL(public_url)
            default = 443 if public.scheme == "https" else 80
            self._public = (public.host, public.port or default, default)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=5.0),
            transport=transport,
            cookies=CookieJar(policy=_NoCookies()),
        )

    def host_allowed(self, host_header: str | None, local_port: int | None) -> bool:
        """Whether a request's Host names this proxy: loopback on `local_port` (the port it
        was received on), or the public UI address."""
        named = host_port(host_header or "")
        if named is None:
            return False
        host, port = named
        if host in LOOPBACK_HOSTS and (80 if port is None else port) == local_port:
            return True
        if self._public is None:
            return False
        public_host, public_port, default = self._public
        return host == public_host and (default if port is None else port) == public_port

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets or lifespan: uvicorn runs this with lifespan off
        request = Request(scope, receive)
        raw = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw.decode("latin-1").partition("?")[0]
        query = scope.get("query_string", b"").decode("latin-1")
        template = route_template(scope["path"])
        server = scope.get("server")  # the socket it came in on: (host, port)
        if not self.host_allowed(request.headers.get("host"), server[1] if server else None):
            log.warning(
                "Temporal Web UI: refused %s %s (Host names another site)", request.method, template
            )
            response = _status(421, 7, MISDIRECTED)
        elif not is_origin_form(raw_path, query):
            log.warning(
                "Temporal Web UI: refused %s %s (not a plain path)", request.method, template
            )
            response = _status(400, 3, BAD_PATH)  # 3 = INVALID_ARGUMENT
        elif not is_read(request.method, raw_path):
            log.warning("Temporal Web UI: refused %s %s (read-only)", request.method, template)
            response = _refused()
        else:
            response = await self._forward(request, raw_path + (f"?{query}" if query else ""))
        await response(scope, receive, send)

    def upstream_request(
        self, method: str, target: str, headers: list[tuple[str, str]], content: bytes | None
    ) -> httpx.Request | None:
        """The request to the UI server for `target` (path and query as checked), or None if
        httpx would send anything else: another scheme, host or port, or another path."""
        try:
            url = self._origin.copy_with(raw_path=target.encode("ascii"))
            outgoing = self._client.build_request(method, url, headers=headers, content=content)
        except (httpx.InvalidURL, UnicodeEncodeError):
            return None
        sent = outgoing.url
        if (
            (sent.scheme, sent.host, sent.port)
            != (self._origin.scheme, self._origin.host, self._origin.port)
            or outgoing.headers.get("host") != self._origin.netloc.decode("ascii")
            or sent.raw_path != target.encode("ascii")
        ):
            return None
        return outgoing

    async def _forward(self, request: Request, target: str) -> Response:
        template = route_template(request.scope["path"])
        content = None
        if request.method == "POST":
            content = await _capped_body(request)
            if content is None:
                log.warning(
                    "Temporal Web UI: refused %s %s (body too large)", request.method, template
                )
                return _status(413, 8, TOO_LARGE)  # 8 = RESOURCE_EXHAUSTED
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _REQUEST_DROPPED
        ]
        outgoing = self.upstream_request(request.method, target, headers, content)
        if outgoing is None:
            log.warning(
                "Temporal Web UI: refused %s %s (the upstream URL would differ)",
                request.method,
                template,
            )
            return _status(400, 3, BAD_PATH)
        try:
            upstream = await self._client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            log.warning(
                "Temporal Web UI unreachable: %s %s %s",
                request.method,
                template,
                type(exc).__name__,
            )
            return JSONResponse(
                {"code": 14, "message": "The Temporal Web UI is not reachable.", "details": []},
                status_code=502,
            )
        log.debug("Temporal Web UI: %s %s %d", request.method, template, upstream.status_code)
        if request.method == "GET" and outgoing.url.path == SETTINGS_PATH and upstream.is_success:
            return await self._settings(upstream)
        response = StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            background=BackgroundTask(upstream.aclose),
        )
        # Raw bytes (still gzipped if they were), so length and encoding stay as sent.
        response.raw_headers = _response_headers(upstream, keep_encoding=True)
        return response

    async def _settings(self, upstream: httpx.Response) -> Response:
        try:
            await upstream.aread()
            settings = upstream.json()
        except ValueError:
            settings = None
        finally:
            await upstream.aclose()
        if not isinstance(settings, dict):
            # Fail closed: a UI told nothing would show write buttons (refused, but offered).
            log.warning("Temporal Web UI: settings were not a JSON object")
            return JSONResponse({"code": 13, "message": "Unexpected UI settings."}, 502)
        response = Response(
            json.dumps(read_only_settings(settings)).encode(), media_type="application/json"
        )
        # The CSRF cookie the UI needs for its queries comes with the settings: keep it.
        response.raw_headers = [
            *_response_headers(upstream, keep_encoding=False),
            (b"content-length", str(len(response.body)).encode()),
        ]
        return response


async def _capped_body(request: Request) -> bytes | None:
    """The request body, or None if it is longer than MAX_QUERY_BODY (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_QUERY_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_QUERY_BODY:
            return None
    return bytes(body)


def _response_headers(
    upstream: httpx.Response, *, keep_encoding: bool
) -> list[tuple[bytes, bytes]]:
    dropped = _HOP_BY_HOP if keep_encoding else _HOP_BY_HOP | {"content-encoding", "content-length"}
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in upstream.headers.multi_items()
        if name.lower() not in dropped
    ]


def server_config(proxy: ReadOnlyWebUI, port: int, *, json_logs: bool = False) -> uvicorn.Config:
    """Uvicorn serving `proxy` on 127.0.0.1:`port`, logging through ours (no access log: it
    would write query strings, and workflow searches may name a patient)."""
    return uvicorn.Config(
        proxy,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
    )
