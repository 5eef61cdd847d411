"""Page cursors: where a page of a list ends, so that the next page starts right after it
(keyset pagination) instead of skipping rows with OFFSET.

A cursor is the base64 of the sort it was made for, that row's sort key values and its id
(the tie-breaker). It goes into URLs, so it carries only sort values (priority, amounts,
dates) and opaque ids, never a claim number or a name."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

MAX_CURSOR_CHARS = 300
DAMAGED = "this page link is damaged or out of date: start again from the first page"

# Row ids are case and task ids ("case-<hex>-t2"); anything else (a NUL, say) is tampering.
_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
# Beyond what the columns hold (money is NUMERIC(14, 2), escalation an INTEGER), a database
# refuses the comparison instead of finding nothing.
_LARGEST = 10**12

# A sort key value as JSON holds it, and as the database compares it.
SortKey = int | float | Decimal | date | datetime | str | None


class Cursor(BaseModel):
    """After (or, for Previous, before) the row whose sort values are `keys` and id is `id`."""

    model_config = ConfigDict(frozen=True, strict=True)

    sort: str
    descending: bool
    keys: tuple[SortKey, ...]
    id: str
    before: bool = False


def _json_key(key: SortKey) -> Any:
    if isinstance(key, Decimal):
        return str(key)
    if isinstance(key, date):  # datetime is a date too
        return key.isoformat()
    return key


def encode_cursor(cursor: Cursor) -> str:
    body = {
        "s": cursor.sort,
        "d": cursor.descending,
        "k": [_json_key(key) for key in cursor.keys],
        "i": cursor.id,
        "b": cursor.before,
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _typed_key(kind: type, value: Any) -> SortKey:
    """The JSON value as the sort column's type; ValueError when it is not one."""
    if value is None:
        return None
    if kind in (int, float):
        number_types = (int,) if kind is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, number_types):
            raise ValueError(value)
        if not math.isfinite(value) or abs(value) >= _LARGEST:
            raise ValueError(value)
        return kind(value)  # type: ignore[no-any-return]
    if not isinstance(value, str):
        raise ValueError(value)
    if kind is Decimal:
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(value) from exc
        if not amount.is_finite() or abs(amount) >= _LARGEST:
            raise ValueError(value)
        return amount
    if kind is datetime:
        found = datetime.fromisoformat(value)
        if found.tzinfo is None:
            raise ValueError(value)
        return found
    if kind is date:
        return date.fromisoformat(value)
    return value


def decode_cursor(text: str, key_types: dict[str, tuple[type, ...]]) -> Cursor:
    """The cursor in `text`, whose sort must be one of `key_types` (sort name -> the types of
    its keys); ValueError(DAMAGED) for anything else, whatever was done to it."""
    if len(text) > MAX_CURSOR_CHARS:
        raise ValueError(DAMAGED)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        body = json.loads(raw)
        if not isinstance(body, dict) or set(body) != {"s", "d", "k", "i", "b"}:
            raise ValueError(DAMAGED)
        kinds = key_types[body["s"]]
        if not isinstance(body["i"], str) or not _ID.fullmatch(body["i"]):
            raise ValueError(DAMAGED)
        if not isinstance(body["k"], list) or len(body["k"]) != len(kinds):
            raise ValueError(DAMAGED)
        return Cursor(
            sort=body["s"],
            descending=body["d"],
            keys=tuple(_typed_key(kind, key) for kind, key in zip(kinds, body["k"], strict=True)),
            id=body["i"],
            before=body["b"],
        )
    except (
        binascii.Error,
        UnicodeDecodeError,
        KeyError,
        TypeError,
        ValueError,
        ValidationError,
    ) as exc:
        raise ValueError(DAMAGED) from exc
