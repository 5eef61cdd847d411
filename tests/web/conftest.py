"""Browser fixtures: one `denials up` stack per module (or one shared by the modules marked
`shared_stack`), one Chromium per module, a fresh browser context (no cookies) per test, and
full-page screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web.stack import CHROMIUM, CHROMIUM_ARGS, MISSING_CHROMIUM, Stack, stack_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="package")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One `denials up` for the modules marked `shared_stack`: they work only on cases, files
    and users' states of their own, so they need not each start one (several seconds)."""
    with stack_in(tmp_path_factory.mktemp("shared-web-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The module's own stack, or the shared one if the module is marked `shared_stack`."""
    if request.node.get_closest_marker("shared_stack") is not None:
        yield request.getfixturevalue("shared_stack")
        return
    with stack_in(tmp_path_factory.mktemp("web-stack")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING_CHROMIUM)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Shots:
    """Numbered full-page screenshots of one test: <test>-<nn>-<step>.png."""

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.test = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.count = 0
        self.paths: list[Path] = []

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.test}-{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.paths.append(path)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path.name}: the page overflows {overflow}px to the right"
        return path


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.base_url, viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Iterator[Shots]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{request.node.name}-*.png"):
        old.unlink()
    shots = Shots(page, request.node.name)
    yield shots
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        shots("failure")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
