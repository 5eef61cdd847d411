"""The access log: one line per request with the route template, never the concrete path or
its query string. Paths and queries carry claim numbers, patient names typed into a search and
form values; `/api/v1/cases/{case_id}` with the status and duration tells an operator enough.

Replaces uvicorn's access log, which writes the request line as received.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("denials.access")


class AccessLog:
    """ASGI middleware logging `METHOD /route/{template} STATUS DURATIONms`."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_status)
        finally:
            route = scope.get("route")  # set by the router once it matched one
            template = getattr(route, "path", None) or "(no route)"
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("%s %s %d %.0fms", scope["method"], template, status, elapsed)
