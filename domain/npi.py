"""The National Provider Identifier: ten digits, the last a check digit.

One place for the rule: the X12 readers warn with it where an NPI is read, and a corrected
claim is refused with it before an 837 carrying a wrong billing provider leaves the building.
"""

from __future__ import annotations

import re

NPI_LENGTH = 10
_NPI = re.compile(rf"[0-9]{{{NPI_LENGTH}}}")  # ASCII digits only: str.isdigit() takes "²"
# The check digit is the Luhn digit of the 9 digits prefixed with 80840 (the card issuer
# prefix for US health applications); the prefix always adds 24 to the Luhn sum.
_NPI_PREFIX_SUM = 24


def npi_check_digit_ok(npi: str) -> bool:
    """Whether a 10-digit NPI's last digit is the check digit of the first nine."""
    total = _NPI_PREFIX_SUM
    for position, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def is_npi_shaped(value: str) -> bool:
    return bool(_NPI.fullmatch(value))


def npi_problem(value: str) -> str | None:
    """Why `value` is not an NPI, in words for a biller, or None."""
    if not value:
        return "is missing"
    if not is_npi_shaped(value):
        return f"must be {NPI_LENGTH} digits"
    if not npi_check_digit_ok(value):
        return "fails the NPI check digit (a digit is mistyped)"
    return None
