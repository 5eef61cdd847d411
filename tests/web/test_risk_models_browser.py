"""Issue 18 in Chromium against `denials up`: a supervisor opens the learned risk models from
the console and starts a retraining; the demo has no adjudicated history, so the page says it
is too little to learn from and that checks run without a model; checked with axe-core and
photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.web.axe import assert_accessible
from tests.web.conftest import Shots
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.shared_stack]


def test_supervisor_retrains_from_the_page(page: Page, shot: Shots) -> None:
    sign_in(page, "sam", shot)
    page.goto("/supervisor")
    page.get_by_role("link", name="Learned risk models").click()
    expect(page.get_by_role("heading", name="Learned risk models")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("No model was trained yet")
    expect(page.get_by_text("Too few to learn from")).to_be_visible()
    shot("empty")
    assert_accessible(page, "empty")
    page.get_by_role("button", name="Retrain now").click()
    expect(page.get_by_role("status")).to_contain_text("Retraining started")
    shot("started")
    assert_accessible(page, "started")
