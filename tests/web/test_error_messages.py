"""An error page's message reads as a sentence, but a name it opens with stays as it is."""

from __future__ import annotations

import pytest

from web.error_pages import _sentence


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("case is closed", "Case is closed"),
        ("scan.835: larger than 50 MiB", "scan.835: larger than 50 MiB"),  # a file name
        ("pcn0000007 was refused", "pcn0000007 was refused"),  # a claim number
        ("", ""),
    ],
)
def test_a_message_opening_with_a_name_keeps_it(message: str, shown: str) -> None:
    assert _sentence(message) == shown
