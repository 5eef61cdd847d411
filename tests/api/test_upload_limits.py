"""Oversize uploads are refused while they stream in (issue 14, item 8; app.upload_limits): a
file past 50 MiB, or a request past 100 MiB, is answered 413 with a message naming the limit
(and the file) as soon as the limit is passed, reading at most one chunk beyond it; a
Content-Length over the limit is refused before any of the body is read. Nothing is stored.
The bodies are generators that fail the test if read further."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.upload_limits import MAX_FILE_BYTES, MAX_REQUEST_BYTES, MIB
from domain.rulebook import Rulebook
from tests.api.test_auth_sessions import Site, csrf_of, serve, web_login

CHUNK = 64 * 1024
BOUNDARY = "limitsboundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
async def site(sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook) -> AsyncIterator[Site]:
    async with serve(sqlite_engine, tmp_path, rulebook) as running:
        yield running


class Body:
    """A multipart body of files of the given sizes (and form fields), streamed in chunks; it
    fails the test if it is read past `allowed` bytes of file content plus one chunk."""

    def __init__(
        self, files: list[tuple[str, int]], allowed: int, fields: dict[str, str] | None = None
    ) -> None:
        self.files, self.allowed, self.fields = files, allowed, fields or {}
        self.read = 0  # bytes of file content handed to the app

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for name, value in self.fields.items():
            yield (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        for filename, size in self.files:
            yield (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            sent = 0
            while sent < size:
                if self.read > self.allowed + CHUNK:
                    pytest.fail(f"the upload was read past its limit: {self.read:,} bytes")
                block = min(CHUNK, size - sent)
                sent += block
                self.read += block
                yield b"I" * block
            yield b"\r\n"
        yield f"--{BOUNDARY}--\r\n".encode()


async def stored_files(site: Site) -> list[object]:
    listed = await site.http.get("/api/v1/ingest", headers=site.bearer("alice"))
    assert listed.status_code == 200, listed.text
    return listed.json()  # type: ignore[no-any-return]


async def test_a_file_past_the_limit_is_refused_as_it_streams(site: Site) -> None:
    body = Body([("remit-300mb.835", 300 * 1000 * 1000)], allowed=MAX_FILE_BYTES)
    response = await site.http.post(
        "/api/v1/ingest",
        content=body.__aiter__(),
        headers={**site.bearer("alice"), "Content-Type": MULTIPART},
    )
    assert response.status_code == 413, response.text
    detail = response.json()["detail"]
    assert detail.startswith("remit-300mb.835: larger than 50 MiB, the most one file may be")
    assert "nothing was stored" in detail
    assert MAX_FILE_BYTES < body.read <= MAX_FILE_BYTES + CHUNK
    assert await stored_files(site) == []


async def test_a_declared_length_past_the_limit_is_refused_unread(site: Site) -> None:
    body = Body([("big.835", 300 * 1000 * 1000)], allowed=0)
    response = await site.http.post(
        "/api/v1/ingest",
        content=body.__aiter__(),
        headers={
            **site.bearer("alice"),
            "Content-Type": MULTIPART,
            "Content-Length": str(300 * 1000 * 1000 + 200),
        },
    )
    assert response.status_code == 413, response.text
    assert response.json()["detail"].startswith(
        "the upload is larger than 100 MiB (286 MiB), the most one request may carry (each "
        "file at most 50 MiB): it was refused before any of it was read"
    )
    assert body.read == 0


async def test_files_together_past_the_request_limit_are_refused(site: Site) -> None:
    """Three files of 40 MiB, each within its limit: the request passes 100 MiB on the third
    and is refused there; none of the three is stored."""
    body = Body([(f"part{n}.835", 40 * MIB) for n in range(3)], allowed=MAX_REQUEST_BYTES)
    response = await site.http.post(
        "/api/v1/ingest",
        content=body.__aiter__(),
        headers={**site.bearer("alice"), "Content-Type": MULTIPART},
    )
    assert response.status_code == 413, response.text
    assert "larger than 100 MiB" in response.json()["detail"]
    assert "once it passed the limit" in response.json()["detail"]
    assert body.read < 3 * 40 * MIB
    assert await stored_files(site) == []


async def test_the_web_form_refuses_an_oversize_file_with_the_page(site: Site) -> None:
    assert (await web_login(site)).status_code == 303
    token = csrf_of((await site.http.get("/ingest")).text)
    body = Body(
        [("2026-12-scan.835", 60 * MIB)], allowed=MAX_FILE_BYTES, fields={"csrf_token": token}
    )
    response = await site.http.post(
        "/ingest", content=body.__aiter__(), headers={"Content-Type": MULTIPART}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "2026-12-scan.835: larger than 50 MiB, the most one file may be" in response.text
    assert "Content-Security-Policy" in response.headers  # the page keeps its headers
    assert body.read <= MAX_FILE_BYTES + CHUNK
    assert await stored_files(site) == []


async def test_a_file_within_the_limit_still_goes_through(site: Site) -> None:
    """The limits watch the stream without changing it: a small file reaches the ingest
    (refused there as unreadable, and stored)."""
    response = await site.http.post(
        "/api/v1/ingest",
        files=[("files", ("note.txt", b"not X12 at all", "text/plain"))],
        headers=site.bearer("alice"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["reports"][0]["status"] == "failed"
    assert len(await stored_files(site)) == 1
