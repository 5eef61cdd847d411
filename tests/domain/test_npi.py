"""The NPI rule (domain/npi.py), the one place the X12 readers and corrected claims check it."""

from __future__ import annotations

import pytest

from domain.npi import npi_check_digit_ok, npi_problem


@pytest.mark.parametrize(
    ("npi", "valid"),
    [("1234567893", True), ("1999999984", True), ("1003000126", True), ("1234567890", False)],
)
def test_npi_check_digit(npi: str, valid: bool) -> None:
    assert npi_check_digit_ok(npi) is valid


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1234567893", None),
        ("", "is missing"),
        ("123456789", "must be 10 digits"),  # the 277CA sample's rejected NPI
        ("12345678931", "must be 10 digits"),
        ("12345\uff167893", "must be 10 digits"),  # a full-width 6 is not an ASCII digit
        ("1234567890", "fails the NPI check digit (a digit is mistyped)"),
        ("1234567839", "fails the NPI check digit (a digit is mistyped)"),  # two swapped
    ],
)
def test_npi_problem_in_words(value: str, problem: str | None) -> None:
    assert npi_problem(value) == problem
