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
server. `/api/v1/settings` is rewritten to say write actions are disabled, so the UI greys
out its cancel and actions buttons and offers no batch or start-workflow buttons.

Logs carry the method, a route template (literal API words only: ids and names become `{}`)
and the status; never a query string.
"""

from __future__ import annotations

import json
import logging
import re
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


def read_only_settings(settings: dict[str, object]) -> dict[str, object]:
    """The UI's settings with every write action switched off."""
    return {**settings, **dict.fromkeys(DISABLED_SETTINGS, True)}


def _refused() -> Response:
    # Shaped like a gRPC status (7 = PERMISSION_DENIED): the UI shows its message.
    return JSONResponse({"code": 7, "message": REFUSAL, "details": []}, status_code=403)


class ReadOnlyWebUI:
    """ASGI app forwarding reads to the Web UI at `upstream` (e.g. http://127.0.0.1:41234)."""

    def __init__(self, upstream: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._upstream = upstream.rstrip("/")
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=5.0), transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets or lifespan: uvicorn runs this with lifespan off
        request = Request(scope, receive)
        raw = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw.decode("latin-1").partition("?")[0]
        template = route_template(scope["path"])
        if not is_read(request.method, raw_path):
            log.warning("Temporal Web UI: refused %s %s (read-only)", request.method, template)
            response = _refused()
        else:
            response = await self._forward(request, raw_path, template)
        await response(scope, receive, send)

    async def _forward(self, request: Request, raw_path: str, template: str) -> Response:
        query = request.scope.get("query_string", b"").decode("latin-1")
        url = f"{self._upstream}{raw_path}" + (f"?{query}" if query else "")
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _REQUEST_DROPPED
        ]
        body = await request.body() if request.method == "POST" else None
        outgoing = self._client.build_request(request.method, url, headers=headers, content=body)
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
        if request.method == "GET" and raw_path == SETTINGS_PATH and upstream.is_success:
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
