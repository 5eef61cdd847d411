"""The admin's form for a new payer rule version: its fields, and turning what was posted into
the rule document the API takes (POST /api/v1/payer-rules), or errors beside the fields.

A field left empty is inherited from the rule it is based on (`based_on`), as in the API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from domain.models import PayerType

APPEAL_ROWS = 5  # payers have at most five levels (Medicare)
LEVEL_FIELDS = ("name", "filing_days", "decision_days", "minimum_in_dispute")
_UNITS = ("days", "months")

PAYER_TYPES = [(t.value, t.value.replace("_", " ")) for t in PayerType]  # select options


def field_names() -> list[str]:
    """Every field of the form, for carrying its values through the preview."""
    names = [
        "rule_id",
        "based_on",
        "payer_id",
        "payer_type",
        "effective_from",
        "source",
        "timely_filing_count",
        "timely_filing_unit",
        "corrected_claim_count",
        "corrected_claim_unit",
        "corrected_claim_decision_days",
        "presumed_receipt_days",
        "rolls_to_business_day",
        "no_appeal_rights",
    ]
    for level in range(1, APPEAL_ROWS + 1):
        names += [f"level_{level}_{part}" for part in LEVEL_FIELDS]
    return names


def form_values(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip() for name in field_names()}


def _whole(values: Mapping[str, str], name: str, errors: dict[str, str]) -> int | None:
    raw = values[name]
    if not raw:
        return None
    if not raw.isdigit():
        errors[name] = "a whole number of days, such as 90"
        return None
    return int(raw)


def _period(values: Mapping[str, str], prefix: str, errors: dict[str, str]) -> dict[str, int]:
    count = _whole(values, f"{prefix}_count", errors)
    unit = values.get(f"{prefix}_unit") or "days"
    if unit not in _UNITS:
        errors[f"{prefix}_unit"] = "days or months"
    return {} if count is None else {unit: count}


def _appeal_levels(values: Mapping[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    levels: list[dict[str, Any]] = []
    for level in range(1, APPEAL_ROWS + 1):
        row = {part: values[f"level_{level}_{part}"] for part in LEVEL_FIELDS}
        if not any(row.values()):
            continue
        if len(levels) != level - 1:
            errors[f"level_{level}_name"] = f"fill in level {len(levels) + 1} first"
        entry: dict[str, Any] = {"level": level, "name": row["name"]}
        if not row["name"]:
            errors[f"level_{level}_name"] = "give the level's name, such as Reconsideration"
        filing = _whole(values, f"level_{level}_filing_days", errors)
        if filing is None and f"level_{level}_filing_days" not in errors:
            errors[f"level_{level}_filing_days"] = "how many days the payer gives to file it"
        entry["filing_days"] = filing
        decision = _whole(values, f"level_{level}_decision_days", errors)
        if decision is not None:
            entry["decision_days"] = decision
        if row["minimum_in_dispute"]:
            entry["minimum_in_dispute"] = row["minimum_in_dispute"]
        levels.append(entry)
    return levels


def _no_appeal_rights(text: str, errors: dict[str, str]) -> list[dict[str, str]]:
    entries = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        carc, colon, citation = line.partition(":")
        if not colon or not carc.strip() or not citation.strip():
            errors["no_appeal_rights"] = f"'{line}': write each as CARC: citation, such as 96: §4"
            continue
        entries.append({"carc": carc.strip(), "citation": citation.strip()})
    return entries


def rule_document(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The rule as the API takes it, and the errors keyed by form field (all found at once)."""
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {}
    if not values["rule_id"]:
        errors["rule_id"] = "give the version an id, such as acme-2027"
    raw["id"] = values["rule_id"]
    if values["based_on"]:
        raw["based_on"] = values["based_on"]
    if bool(values["payer_id"]) == bool(values["payer_type"]):
        errors["payer_id"] = "give either a payer id or a payer type (its default rule)"
    elif values["payer_id"]:
        raw["payer_id"] = values["payer_id"]
    else:
        raw["payer_type"] = values["payer_type"]
    if not values["effective_from"]:
        errors["effective_from"] = "give the day the version takes effect"
    raw["effective_from"] = values["effective_from"]
    if values["source"]:
        raw["source"] = values["source"]
    elif not values["based_on"]:
        errors["source"] = "say where the rule comes from, such as the payer's manual section"
    timely = _period(values, "timely_filing", errors)
    if timely:
        raw["timely_filing"] = timely
    corrected: dict[str, Any] = _period(values, "corrected_claim", errors)
    decision = _whole(values, "corrected_claim_decision_days", errors)
    if decision is not None:
        if not corrected:
            errors["corrected_claim_count"] = "give the window too: it replaces the base's whole"
        corrected["decision_days"] = decision
    if corrected:
        raw["corrected_claim"] = corrected
    receipt = _whole(values, "presumed_receipt_days", errors)
    if receipt is not None:
        raw["presumed_receipt_days"] = receipt
    if values["rolls_to_business_day"]:
        raw["rolls_to_business_day"] = values["rolls_to_business_day"] == "yes"
    levels = _appeal_levels(values, errors)
    if levels:
        raw["appeal_levels"] = levels
    elif not values["based_on"]:
        errors["level_1_name"] = "give at least level 1, or base the version on another rule"
    no_rights = _no_appeal_rights(values["no_appeal_rights"], errors)
    if no_rights:
        raw["no_appeal_rights"] = no_rights
    return raw, errors


_FIELDS = {
    "id": "rule_id",
    "effective_from": "effective_from",
    "source": "source",
    "timely_filing": "timely_filing_count",
    "corrected_claim": "corrected_claim_count",
    "presumed_receipt_days": "presumed_receipt_days",
    "no_appeal_rights": "no_appeal_rights",
    "payer_id": "payer_id",
    "payer_type": "payer_id",
}


# Pydantic's words for what the rule store refuses, as the other pages say them (web.wording).
_PLAIN = (
    (re.compile(r"^Input should be greater than or equal to (\d+)$"), r"must be at least \1"),
    (re.compile(r"^Input should be a valid date.*$"), "give a date as YYYY-MM-DD"),
    (
        re.compile(r"^Input should be a valid (integer|number).*$"),
        "give a whole number, such as 90",
    ),
    (re.compile(r"^Field required$"), "is required"),
)


def _plain(text: str) -> str:
    text = text.removeprefix("Value error, ")
    for pattern, words in _PLAIN:
        text = pattern.sub(words, text)
    return text


def _field_of(location: str) -> str:
    """The form field a validation error's location ("appeal_levels.0.filing_days") is
    about; "" for the rule as a whole."""
    path = location.split(".")
    if path[0] == "appeal_levels":
        if len(path) >= 3 and path[1].isdigit() and path[2] in LEVEL_FIELDS:
            return f"level_{int(path[1]) + 1}_{path[2]}"
        return "level_1_name"
    return _FIELDS.get(path[0], "")


def located_problems(message: str) -> dict[str, str]:
    """The store's refusal ("<origin>: rule 'x': loc: msg; loc: msg") as errors beside the
    form's fields; what names no field is the form's own error (key "")."""
    _, found, rest = message.partition(": rule '")
    _, separator, problems = rest.partition("': ")
    if not found or not separator:  # about the rule as a whole (an unknown base)
        return {"": message.partition(": ")[2] or message}
    errors: dict[str, str] = {}
    for part in problems.split("; "):
        location, colon, text = part.partition(": ")
        field = _field_of(location) if colon and " " not in location else ""
        errors.setdefault(field, _plain(text) if field else _plain(part.removeprefix("rule: ")))
    return errors
