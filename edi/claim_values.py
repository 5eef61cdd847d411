"""Claim values read from segments: NPIs checked (by domain/npi.py), and what to say when a
model refuses a value.

Readers check values where they read them, so that a problem names the segment and element it
came from. When a model still refuses a value, `refusal` words the first error for a biller
(the field by name, the rule in plain words) instead of pydantic's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from domain.npi import NPI_LENGTH, is_npi_shaped, npi_check_digit_ok
from edi.problems import SegmentProblems
from edi.tokenizer import Segment

FIELD_NAMES: dict[str, str] = {
    "claim_id": "patient control number",
    "payer_claim_control_number": "payer claim control number",
    "claim_status": "claim status",
    "claim_type": "claim type",
    "frequency_code": "claim frequency code",
    "provider_npi": "provider NPI",
    "payer.payer_id": "payer id",
    "payer.name": "payer name",
    "payer.type": "payer type",
    "patient.name": "patient name",
    "patient.member_id": "member id",
    "patient.birth_date": "patient birth date",
    "service_date_from": "service date",
    "service_date_to": "service end date",
    "billed_amount": "billed amount",
    "paid_amount": "paid amount",
    "remittance_date": "report date",
}
_MODEL_PATHS = {"Claim": "", "Payer": "payer.", "Patient": "patient."}
_ITEMS = {"service_lines": "service line", "adjustments": "adjustment", "rarcs": "remark code"}
_PRIVATE = "patient."  # PHI: a problem says what is wrong with it, never its value
_SHOWN_LENGTH = 20  # a longer value is named by its length alone


@dataclass(frozen=True)
class Source:
    """Where a claim field's value was read, and its name for a biller."""

    segment: Segment
    element: int | None
    name: str = ""


class NpiReader:
    """Reads NPIs, each wrong value reported once: a remittance repeats a provider's NPI on
    every claim. A wrong NPI is a finding about the claim (a 277CA often rejects the claim for
    it), so it is a warning; one that is not 10 digits is not stored."""

    def __init__(self, report: SegmentProblems) -> None:
        self._report = report
        self._read: dict[str, str] = {}

    def read(self, segment: Segment, index: int, role: str) -> str:
        value = segment.get(index).strip()
        known = self._read.get(value)
        if known is not None:
            return known
        result = value
        if value and not is_npi_shaped(value):
            self._report.warning(
                segment,
                index,
                f"{role} NPI {value!r} must be {NPI_LENGTH} digits: not recorded on the claim",
            )
            result = ""
        elif value and not npi_check_digit_ok(value):
            self._report.warning(
                segment,
                index,
                f"{role} NPI {value!r} fails the NPI check digit: recorded as sent, check it",
            )
        self._read[value] = result
        return result


def too_long(name: str, value: str, longest: int) -> str:
    return f"{name} is {len(value)} characters long: at most {longest}"


def refusal(exc: ValidationError, sources: Mapping[str, Source]) -> tuple[str, str]:
    """The first refused field's path (e.g. 'payer.payer_id') and what is wrong, in words."""
    first = exc.errors(include_url=False)[0]
    # A Payer or Patient built on its own refuses with a path inside it: made the claim's.
    within = _MODEL_PATHS.get(exc.title, _snake(exc.title) + ".")
    path = within + ".".join(str(part) for part in first.get("loc", ()))
    source = sources.get(path)
    name = (source.name if source else "") or FIELD_NAMES.get(path) or _words(path)
    value = first.get("input")
    limits = first.get("ctx") or {}
    kind = first.get("type", "")
    shown = ""
    if not path.startswith(_PRIVATE) and value is not None and len(str(value)) <= _SHOWN_LENGTH:
        shown = f" {value!r}"
    if kind == "string_too_long" and isinstance(value, str):
        return path, too_long(name + shown, value, limits.get("max_length", 0))
    if kind == "string_too_short" and not value:
        return path, f"{name} is missing"
    if kind == "string_too_short":
        return path, f"{name}{shown} is shorter than {limits.get('min_length', 0)} characters"
    if kind == "missing":
        return path, f"{name} is missing"
    return path, f"{name}{shown} is not valid"


def _words(path: str) -> str:
    """'service_lines.0.procedure_code' -> 'service line 1 procedure code'."""
    words: list[str] = []
    for part in path.split("."):
        if part.isascii() and part.isdigit():
            words.append(str(int(part) + 1))
        elif part in _ITEMS:
            words.append(_ITEMS[part])
        else:
            words.append(part.replace("_", " "))
    return " ".join(words) or "a value"


def _snake(name: str) -> str:
    """'ServiceLine' -> 'service_line'."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
