"""The forms of the human tasks: which fields each shows, and turning a posted form into the
typed payload the workflow's Update takes (or field-level errors to show beside the fields)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError

from domain.case import PayerDecision, TaskType
from domain.categories import OwningTeam
from domain.models import Category, DenialClass, WorkPath
from web.corrected_claim import CorrectionTarget, parse_corrections
from web.wording import located_error, plain_error
from workflows.messages import TaskPayload

_PAYLOAD = TypeAdapter(TaskPayload)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"  # text | textarea | date | number | select | checkbox
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    help: str = ""


@dataclass(frozen=True)
class TaskForm:
    title: str
    submit: str
    fields: tuple[FormField, ...] = field(default_factory=tuple)


def _choices(values: Any, blank: str | None = None) -> tuple[tuple[str, str], ...]:
    options = [(v.value, v.value.replace("_", " ")) for v in values]
    return (("", blank), *options) if blank is not None else tuple(options)


NOTES = FormField("notes", "Notes", "textarea")

TASK_FORMS: dict[TaskType, TaskForm] = {
    TaskType.CONFIRM_TRIAGE: TaskForm(
        "Confirm triage",
        "Confirm triage",
        (
            FormField(
                "category", "Category", "select", options=_choices(Category, "keep suggested")
            ),
            FormField(
                "denial_class", "Class", "select", options=_choices(DenialClass, "keep suggested")
            ),
            FormField("path", "Path", "select", options=_choices(WorkPath, "keep suggested")),
            NOTES,
        ),
    ),
    TaskType.CONFIRM_ROOT_CAUSE: TaskForm(
        "Confirm root cause",
        "Confirm root cause",
        (
            FormField("cause", "Root cause", help="Leave empty to keep the suggested cause"),
            FormField(
                "owning_team",
                "Owning team",
                "select",
                options=_choices(OwningTeam, "keep suggested"),
            ),
            FormField("pattern", "A pattern, not a one-off", "checkbox"),
            NOTES,
        ),
    ),
    TaskType.PREPARE_CORRECTED_CLAIM: TaskForm(
        "Submit the corrected claim",
        "Record submission",
        (
            # The claim's own fields and lines come first (web/corrected_claim.py).
            FormField(
                "corrections",
                "Corrections made",
                "textarea",
                required=True,
                help="In a sentence, for the timeline: what was wrong and what changed",
            ),
            FormField("submitted_on", "Submitted on", "date", required=True),
            FormField("reference", "Submission reference"),
            NOTES,
        ),
    ),
    TaskType.PREPARE_APPEAL: TaskForm(
        "Submit the appeal",
        "Record submission",
        (
            FormField("level", "Level", "number", required=True),
            FormField("argument", "Argument", "textarea", required=True),
            FormField("submitted_on", "Submitted on", "date", required=True),
            FormField("reference", "Submission reference"),
            NOTES,
        ),
    ),
    TaskType.APPROVE_WRITE_OFF: TaskForm(
        "Write-off review",
        "Record decision",
        (
            FormField(
                "approve",
                "Decision",
                "select",
                required=True,
                options=(("true", "approve the write-off"), ("false", "refuse: work it instead")),
            ),
            FormField("reason", "Reason", "textarea", required=True),
            FormField(
                "next_path",
                "If refused, work it as",
                "select",
                options=_choices((WorkPath.CORRECTED_CLAIM, WorkPath.APPEAL), "—"),
            ),
            NOTES,
        ),
    ),
    TaskType.RESOLVE_DUPLICATE: TaskForm(
        "Duplicate check",
        "Record result",
        (
            FormField(
                "is_duplicate",
                "Result",
                "select",
                required=True,
                options=(("true", "a duplicate: close it"), ("false", "not a duplicate")),
            ),
            FormField("original_claim_reference", "Original claim"),
            FormField(
                "next_path",
                "If not a duplicate, work it as",
                "select",
                options=_choices(
                    (WorkPath.CORRECTED_CLAIM, WorkPath.APPEAL, WorkPath.WRITE_OFF_REVIEW), "—"
                ),
            ),
            NOTES,
        ),
    ),
    TaskType.RECORD_PAYER_RESPONSE: TaskForm(
        "Record the payer's response",
        "Record response",
        (
            FormField(
                "decision", "Decision", "select", required=True, options=_choices(PayerDecision)
            ),
            FormField("paid_amount", "Paid amount", "number"),
            FormField("decision_date", "Decision date", "date", required=True),
            FormField("payer_claim_control_number", "New payer claim number"),
            FormField("reference", "Reference"),
            NOTES,
        ),
    ),
    TaskType.FOLLOW_UP_WITH_PAYER: TaskForm(
        "Follow up with the payer",
        "Record follow-up",
        (
            FormField("contact_notes", "What the payer said", "textarea", required=True),
            FormField("reference", "Call reference"),
            FormField("expected_decision_date", "New expected decision date", "date"),
            NOTES,
        ),
    ),
    TaskType.RESOLVE_SUBMISSION_FAILURE: TaskForm(
        "Deal with a failed submission",
        "Mark as dealt with",
        (
            FormField(
                "notes",
                "What was done",
                "textarea",
                required=True,
                help="The clearinghouse's error is on the timeline. The biller's task stays "
                "open until the work is sent.",
            ),
        ),
    ),
}


def initial_values(
    task_type: TaskType, today: date, appeal_level: int | None, pattern_suggested: bool = False
) -> dict[str, str]:
    """Sensible defaults: today's date for submissions, the task's appeal level, and the
    root cause analysis' pattern verdict (an unticked box would record a one-off)."""
    values = {}
    for form_field in TASK_FORMS[task_type].fields:
        if form_field.kind == "date" and form_field.required:
            values[form_field.name] = today.isoformat()
    if task_type is TaskType.PREPARE_APPEAL and appeal_level:
        values["level"] = str(appeal_level)
    if task_type is TaskType.CONFIRM_ROOT_CAUSE and pattern_suggested:
        values["pattern"] = "on"
    return values


def parse_task_form(
    task_type: TaskType, form: Mapping[str, Any], correcting: CorrectionTarget | None = None
) -> tuple[TaskPayload | None, dict[str, str]]:
    """The payload from a posted form, or the errors keyed by field name (or "" for the form).
    A corrected claim's structured corrections are read when the claim (`correcting`) is
    given: the form edits its lines."""
    spec = TASK_FORMS[task_type]
    data: dict[str, Any] = {"type": task_type.value}
    errors: dict[str, str] = {}
    for form_field in spec.fields:
        raw = str(form.get(form_field.name) or "").strip()
        if form_field.kind == "checkbox":
            data[form_field.name] = raw in ("on", "true", "1")
        elif raw:
            data[form_field.name] = raw
        elif form_field.required:
            errors[form_field.name] = f"{form_field.label} is required"
    if task_type is TaskType.PREPARE_CORRECTED_CLAIM and correcting is not None:
        corrections, problems = parse_corrections(form, correcting)
        errors |= problems
        if corrections is not None:
            data["claim_corrections"] = corrections
    if errors:
        return None, errors
    try:
        return _PAYLOAD.validate_python(data), {}
    except ValidationError as exc:
        for error in exc.errors():
            location = [str(part) for part in error["loc"] if str(part) != task_type.value]
            name = location[-1] if location else ""
            field = name if name in {f.name for f in spec.fields} else ""
            errors.setdefault(field, plain_error(error) if field else located_error(error))
        return None, errors
