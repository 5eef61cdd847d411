"""What the pages say instead of the code's names: field labels, timeline event types and the
product's snake_case terms in plain words, validation errors in plain sentences, and internal
case and task ids as claim numbers. One place, so every page words them alike."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from db.case_names import claim_numbers, task_types
from domain.case import CaseOutcome, CaseStatus, PayerDecision, TaskType
from domain.categories import OwningTeam
from domain.deadlines import DeadlineKind
from domain.models import Category, WorkPath

# Field names (form fields, payload and query parameters) as a person would name them.
FIELD_LABELS: dict[str, str] = {
    "approve": "decision",
    "argument": "argument",
    "billed_amount": "billed amount",
    "category": "category",
    "cause": "root cause",
    "claim_corrections": "claim corrections",
    "contact_notes": "what the payer said",
    "corrections": "corrections made",
    "decision": "decision",
    "decision_date": "decision date",
    "deadline_before": "deadline before",
    "denial_class": "class",
    "descending": "order",
    "diagnosis_codes": "diagnosis codes",
    "ends_at": "end",
    "escalated": "escalated",
    "expected_decision_date": "new expected decision date",
    "is_duplicate": "result",
    "level": "level",
    "line_corrections": "line corrections",
    "line_number": "line number",
    "modifiers": "modifiers",
    "next_path": "next path",
    "notes": "notes",
    "offset": "page",
    "open_only": "open only",
    "original_claim_reference": "original claim",
    "owner": "owner",
    "owning_team": "owning team",
    "paid_amount": "paid amount",
    "path": "path",
    "pattern": "pattern",
    "payer_claim_control_number": "new payer claim number",
    "payer_id": "payer id",
    "payer_name": "payer name",
    "payer_type": "payer type",
    "procedure_code": "procedure code",
    "q": "claim number",
    "reason": "reason",
    "reference": "reference",
    "return_tasks": "give the tasks back",
    "revenue_code": "revenue code",
    "service_date": "date of service",
    "service_date_from": "first date of service",
    "service_date_to": "last date of service",
    "show": "show",
    "sort": "sort",
    "stalled": "stalled",
    "starts_at": "start",
    "status": "status",
    "submitted_on": "submitted on",
    "units": "units",
    "user_id": "user",
}

# Timeline event types: the tag each entry carries.
EVENT_WORDS: dict[str, str] = {
    "appeal_exhausted": "no appeal left",
    "appeal_submitted": "appeal sent",
    "attested": "attested",
    "claim_identified": "claim identified",
    "closed": "closed",
    "corrected_claim_submitted": "corrected claim sent",
    "deadline_extended": "deadline extended",
    "deadline_missed": "deadline missed",
    "deadlines_recomputed": "deadlines recounted",
    "duplicate_confirmed": "duplicate",
    "escalated": "escalated",
    "followed_up": "followed up",
    "late_payment": "late payment",
    "no_further_action": "no further action",
    "not_duplicate": "not a duplicate",
    "note": "note",
    "owner_cleared": "owner removed",
    "payer_response": "payer answer",
    "prevention_task": "prevention",
    "priority_changed": "priority changed",
    "received": "received",
    "remainder_review": "remainder to review",
    "reminder": "reminder",
    "root_cause_confirmed": "root cause",
    "stalled": "stalled",
    "submission_failed": "sending failed",
    "submission_failure_resolved": "sending fixed",
    "submission_failure_reviewed": "sending failure dealt with",
    "submission_sent": "sent",
    "task_cancelled": "task cancelled",
    "task_claimed": "task claimed",
    "task_created": "new task",
    "task_reassigned": "task reassigned",
    "task_released": "task released",
    "task_returned": "task returned",
    "triage_confirmed": "triage confirmed",
    "triaged": "triaged",
    "urgent": "urgent",
    "write_off_approved": "write-off approved",
    "write_off_refused": "write-off refused",
}

TASK_WORDS: dict[str, str] = {
    TaskType.CONFIRM_TRIAGE: "confirm triage",
    TaskType.CONFIRM_ROOT_CAUSE: "confirm root cause",
    TaskType.PREPARE_CORRECTED_CLAIM: "corrected claim",
    TaskType.PREPARE_APPEAL: "appeal",
    TaskType.APPROVE_WRITE_OFF: "write-off review",
    TaskType.RESOLVE_DUPLICATE: "duplicate check",
    TaskType.RECORD_PAYER_RESPONSE: "record payer response",
    TaskType.FOLLOW_UP_WITH_PAYER: "follow up with payer",
    TaskType.RESOLVE_SUBMISSION_FAILURE: "failed submission",
}


def _enum_words(*enums: type[StrEnum]) -> dict[str, str]:
    return {
        member.value: member.value.replace("_", " ")
        for enum in enums
        for member in enum
        if "_" in member.value
    }


# Every snake_case term the product writes into messages, and its words. Only these are
# rewritten: a claim number or a user id that happens to hold an underscore stays as it is.
TERMS: dict[str, str] = {
    **_enum_words(
        Category, WorkPath, CaseStatus, CaseOutcome, PayerDecision, DeadlineKind, OwningTeam
    ),
    **{name: label for name, label in FIELD_LABELS.items() if "_" in name},
    **{name: words for name, words in EVENT_WORDS.items() if "_" in name},
    **TASK_WORDS,
}
_TERM = re.compile(r"\b(" + "|".join(sorted(map(re.escape, TERMS), key=len, reverse=True)) + r")\b")


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


def event_words(event_type: str) -> str:
    return EVENT_WORDS.get(event_type, event_type.replace("_", " "))


def plain_terms(text: str) -> str:
    """`text` with the product's snake_case terms in words ("confirm_triage" -> "confirm
    triage", "paid_amount" -> "paid amount")."""
    return _TERM.sub(lambda match: TERMS[match.group(1)], text) if "_" in text else text


def _choices(expected: str) -> str:
    # Option values only ("'open', 'in_progress' or 'done'"): every underscore is a space.
    return expected.replace("'", "").replace("_", " ")


def plain_error(error: Mapping[str, Any]) -> str:
    """A pydantic error (one of ValidationError.errors()) as a person would say it, without
    the field's name (the page shows it beside the field, or `located_error` adds it)."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    message = str(error.get("msg", ""))
    if kind == "value_error":
        return plain_terms(message.removeprefix("Value error, "))
    if kind == "assertion_error":
        return plain_terms(message.removeprefix("Assertion failed, "))
    if kind == "missing":
        return "is required"
    if kind.startswith("int_"):
        return "give a whole number, such as 2"
    if kind.startswith(("decimal_parsing", "decimal_type", "float_")):
        return "give an amount in numbers, such as 120.00"
    if kind == "decimal_max_places":
        return f"give at most {ctx.get('decimal_places', 2)} decimal places"
    if kind.startswith(("date_", "datetime_")):
        return "give a date as YYYY-MM-DD"
    if kind.startswith("bool_"):
        return "choose one of the options"
    if kind in ("enum", "literal_error"):
        return f"choose one of: {_choices(str(ctx.get('expected', '')))}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}"
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        minimum = int(ctx.get("min_length", 1))
        return "cannot be empty" if minimum <= 1 else f"needs at least {minimum} characters"
    if kind == "too_long":
        return f"has too many entries: at most {ctx.get('max_length')}"
    if kind == "string_pattern_mismatch":
        return "is not in the expected form"
    return plain_terms(message.replace("Input should be", "should be"))


def located_error(error: Mapping[str, Any]) -> str:
    """A pydantic error with the label of the field it is about: "Paid amount: must be at
    least 0". Query and body locations ("query", "body") and list positions are skipped."""
    names = [
        str(part)
        for part in error.get("loc", ())
        if isinstance(part, str) and part not in ("query", "body", "path", "form")
    ]
    text = plain_error(error)
    if not names:
        return text[0].upper() + text[1:]
    label = field_label(names[-1])
    return f"{label[0].upper()}{label[1:]}: {text}"


def located_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(dict.fromkeys(located_error(error) for error in errors))


# Case ids ("case-" and 24 hex digits, services.cases) and task ids (a case id and "-t<n>").
_IDS = re.compile(r"\b(?:(no) )?(?:(case|task) )?(case-[0-9a-f]{24})(?:-t(\d+))?\b")


def name_ids(text: str, session: Session) -> str:
    """`text` with each case id as its claim number and each task id as what the task is,
    e.g. "case case-7f10… is closed" -> "the case of claim PCN-1 is closed"."""
    found = _IDS.findall(text)
    if not found:
        return text
    case_ids = {case_id for _, _, case_id, _ in found}
    claims = claim_numbers(session, case_ids)
    types = task_types(session, [f"{case_id}-t{n}" for _, _, case_id, n in found if n])

    def words(match: re.Match[str]) -> str:
        no, noun, case_id, number = match.groups()
        claim = claims.get(case_id)
        if number:
            task_type = types.get(f"{case_id}-t{number}")
            if claim is None or task_type is None:
                return "no such task" if no else "this task"
            what = f"the {TASK_WORDS.get(task_type, plain_terms(task_type))} task of claim {claim}"
            return f"no {what}" if no else what
        if claim is None:
            return "no such case" if no else "this case"
        what = f"the case of claim {claim}" if noun == "case" else f"claim {claim}"
        return f"no {what}" if no else what

    return _IDS.sub(words, text)
