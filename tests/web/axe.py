"""axe-core (the copy the axe-playwright-python wheel ships: nothing is fetched) run on the page
as it stands; the tests keep every page and state free of serious and critical violations."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_AXE = Axe()


def serious_violations(page: Page) -> list[str]:
    """Each serious or critical violation: its rule, impact, help text and where (first 3)."""
    found = _AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page: Page, what: str) -> None:
    assert serious_violations(page) == [], f"{what} ({page.url})"
