"""Waiting for asynchronous effects (activities, workflows) to show through the API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    what: str,
    timeout: float = 15.0,
) -> T:
    """Call `probe` until `done(result)` holds (real time), returning that result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if done(result):
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last seen: {result!r}")
        await asyncio.sleep(0.05)
