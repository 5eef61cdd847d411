"""Download headers for files whose names come from users (uploads keep their names)."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(filename: str) -> str:
    """`attachment` with the name as RFC 6266 gives it: an ASCII fallback (headers are
    Latin-1; a name like "Überweisung-Zürich.835" or "支払.835" cannot go in as is) and the
    exact name UTF-8-encoded for browsers that read `filename*`."""
    fallback = "".join(
        char if char.isascii() and char.isprintable() and char not in '"\\' else "_"
        for char in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
