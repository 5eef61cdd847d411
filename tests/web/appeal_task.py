"""Driving the appeal task page in a browser."""

from __future__ import annotations

from playwright.sync_api import Page


def finish_and_submit_appeal(page: Page, argument: str, reference: str) -> None:
    """On the appeal task: the argument typed over the template's, every enclosure unticked,
    then submitted (for tests whose point is elsewhere)."""
    page.get_by_label("Argument: why the claim should be paid").fill(argument)
    boxes = page.get_by_label("Send with this appeal")
    for index in range(boxes.count()):
        boxes.nth(index).uncheck()
    page.get_by_label("Submission reference").fill(reference)
    page.get_by_role("button", name="Submit the appeal").click()
