"""Tuning glibc's allocator in served processes (services.memory)."""

from __future__ import annotations

import pytest

from services import memory


def _recording(calls: list[tuple[int, int]]) -> object:
    def mallopt(parameter: int, value: int) -> int:
        calls.append((parameter, value))
        return 1

    return lambda name: mallopt if name == "mallopt" else None


def test_arenas_are_capped_unless_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(memory, "_glibc", _recording(calls))
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    memory.limit_arenas()
    assert calls == [(-8, memory.ARENAS)]
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # the operator's choice stands
    memory.limit_arenas()
    assert calls == [(-8, memory.ARENAS)]


def test_without_glibc_nothing_is_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_glibc", lambda name: None)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    memory.limit_arenas()  # musl or macOS: no error
