"""Markers that let a contributor run part of the suite (`pytest -m "not slow"`), given from what
a test uses rather than written on each test, so a new test is marked as soon as it uses a
browser, PostgreSQL or the product's own processes. `make test` runs everything."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Chromium through Playwright (tests/web's sync fixtures, test_web_ui's async ones).
BROWSER_FIXTURES = {"browser", "page", "chromium"}
# A PostgreSQL server: embedded, or the one DENIALS_TEST_POSTGRES names; asked for by name or
# as the "postgresql" parameter of a fixture that runs a test on each database.
POSTGRES_FIXTURES = {"postgres_admin"}
POSTGRES_PARAM = "postgresql"
# The product as separate processes: the dev server binary, `denials up`, worker and API.
# Elsewhere a module that runs the `denials` command says so with `pytestmark`.
PROCESS_FIXTURES = {"stack", "running_stack", "stack_env", "web_ui"}


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "browser: drives Chromium (needs DENIALS_TEST_CHROMIUM or /usr/bin/chromium)",
        "postgres: needs PostgreSQL (embedded, or the server DENIALS_TEST_POSTGRES names)",
        "e2e: starts the product's own processes (Temporal dev server, denials up/worker/api)",
        "slow: a browser or end-to-end test, or marked slow: seconds to minutes each",
    ):
        config.addinivalue_line("markers", line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if used & POSTGRES_FIXTURES or POSTGRES_PARAM in params.values():
            item.add_marker(pytest.mark.postgres)
        if used & PROCESS_FIXTURES or item.path.is_relative_to(TESTS / "e2e"):
            item.add_marker(pytest.mark.e2e)
        if any(item.get_closest_marker(name) for name in ("browser", "e2e")):
            item.add_marker(pytest.mark.slow)
