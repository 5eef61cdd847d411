"""Upload size limits enforced while the body streams in, before anything is stored.

Starlette reads a whole multipart body (spooled to disk) before a route sees its files, so a
300 MB upload used to be read in full only to be refused. This middleware, around the X12
upload routes, refuses with 413 and a message naming the limit (and the file) as soon as it is
passed: up front when Content-Length says the request is too large, otherwise on the chunk
that passes a file's or the request's limit. Nothing past that chunk is read.

It watches the multipart stream on the side (python-multipart, the parser Starlette uses) to
count each file part's bytes; the route still reads the files through Starlette as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.templating import render_error

MIB = 1 << 20
MAX_FILE_BYTES = 50 * MIB
# Every file of one request is spooled to disk and stored before it is ingested: this bounds
# the request.
MAX_REQUEST_BYTES = 100 * MIB
# Uploads larger than this in all are ingested in the background (services.ingest_background):
# the web form goes to the file's page, the API answers 202 with each file's report URL.
LARGE_UPLOAD_BYTES = 5 * MIB
UPLOAD_PATHS = frozenset({"/api/v1/ingest", "/ingest", "/api/v1/claim-checks", "/claim-checks"})


class _Refused(Exception):
    """Raised into the app from `receive`: the body is not read any further."""


@dataclass
class _Watch:
    """What the body has brought so far: bytes in all, and in the current file part."""

    parser: MultipartParser | None
    received: int = 0
    refusal: str | None = None
    _header: bytes = b""
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _filename: str | None = None
    _part_bytes: int = 0

    def feed(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.parser is not None:
            try:
                self.parser.write(chunk)
            except MultipartParseError:
                self.parser = None  # malformed: Starlette's own parser says so (400)
        if self.refusal is None and self.received > MAX_REQUEST_BYTES:
            self.refusal = request_too_large(None)
        if self.refusal is not None:
            raise _Refused

    # python-multipart callbacks: only the file parts' names and sizes matter here.
    def on_part_begin(self) -> None:
        self._headers, self._filename, self._part_bytes = {}, None, 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        name = self._header.lower()
        self._headers[name] = self._headers.get(name, b"") + data[start:end]

    def on_header_end(self) -> None:
        self._header = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"filename" in options:
            self._filename = options[b"filename"].decode("utf-8", "replace") or "upload"

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._part_bytes += end - start
        if self._filename is not None and self._part_bytes > MAX_FILE_BYTES:
            self.refusal = self.refusal or file_too_large(self._filename)


def file_too_large(filename: str) -> str:
    return (
        f"{filename}: larger than {MAX_FILE_BYTES // MIB} MiB, the most one file may be: the "
        "upload was stopped there and nothing was stored. Ask the payer or clearinghouse for "
        "smaller files (one per check or EFT)"
    )


def request_too_large(declared: int | None) -> str:
    size = f" ({declared / MIB:,.0f} MiB)" if declared is not None else ""
    when = "before any of it was read" if declared is not None else "once it passed the limit"
    return (
        f"the upload is larger than {MAX_REQUEST_BYTES // MIB} MiB{size}, the most one request "
        f"may carry (each file at most {MAX_FILE_BYTES // MIB} MiB): it was refused {when} and "
        "nothing was stored. Send fewer or smaller files at a time"
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _multipart_watch(scope: Scope) -> _Watch:
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    kind, options = parse_options_header(content_type)
    watch = _Watch(parser=None)
    if kind == b"multipart/form-data" and options.get(b"boundary"):
        callbacks: dict[str, Callable[..., None]] = {
            name: getattr(watch, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
            )
        }
        watch.parser = MultipartParser(options[b"boundary"], callbacks)  # type: ignore[arg-type]
    return watch


class UploadLimits:
    """ASGI middleware: size limits on POSTs to the X12 upload routes (UPLOAD_PATHS)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in UPLOAD_PATHS
        ):
            await self._app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > MAX_REQUEST_BYTES:
            await _refuse(scope, send, request_too_large(declared))
            return
        watch = _multipart_watch(scope)

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                watch.feed(message.get("body", b""))
            return message

        async def held_send(message: Message) -> None:
            # Once refused, whatever the app answers (FastAPI turns the interrupted body into
            # a 400) gives way to the 413.
            if watch.refusal is None:
                await send(message)

        try:
            await self._app(scope, counted_receive, held_send)
        except Exception:
            if watch.refusal is None:
                raise
        if watch.refusal is not None:
            await _refuse(scope, send, watch.refusal)


async def _refuse(scope: Scope, send: Send, message: str) -> None:
    """413 in the caller's terms: JSON for the API, the error page for the web form. The
    connection is closed: the rest of the body is never read."""
    if scope["path"].startswith("/api/"):
        body = json.dumps({"detail": message}).encode()
        headers = [(b"content-type", b"application/json")]
    else:
        page = render_error(Request(scope), 413, message)
        body, headers = page.body, [(b"content-type", b"text/html; charset=utf-8")]
    headers += [(b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
