"""The case page's views of the claim: the payer's file in words (claim, lines, adjustments,
remarks) and, on the corrected-claim task, the form built from the claim's lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.case import CaseState, TaskType
from domain.classification import ClassificationTable
from domain.remittance_detail import claim_detail
from services.cases import CaseService
from web.corrected_claim import (
    FREQUENCIES,
    CorrectionTarget,
    correction_form,
    initial_values,
)
from web.templating import org_today


def claim_views(
    state: CaseState,
    table: ClassificationTable,
    task_type: TaskType | None,
    values: Mapping[str, str],
) -> dict[str, Any]:
    """Template context: `claim_detail`, `correction` (None unless the task is the corrected
    claim) and the form `values`, the claim's own under what was typed."""
    detail = claim_detail(state.record.claim, table)
    context: dict[str, Any] = {
        "claim_detail": detail,
        "correction": None,
        "values": dict(values),
        "frequencies": FREQUENCIES,
    }
    if task_type is TaskType.PREPARE_CORRECTED_CLAIM:
        target = CorrectionTarget.of(state.record, org_today())
        shown = {**initial_values(target), **values}
        denied = {
            line.line.line_number: ", ".join(line.denial_codes)
            for line in detail.lines
            if line.denial
        }
        context["correction"] = correction_form(target, shown, denied)
        context["values"] = shown
    return context


def correction_target(
    cases: CaseService, case_id: str, task_type: TaskType
) -> CorrectionTarget | None:
    """The claim a posted corrected-claim form corrects (read without counting as a view)."""
    if task_type is not TaskType.PREPARE_CORRECTED_CLAIM:
        return None
    state = CaseState.model_validate(cases.get_row(case_id).state)
    return CorrectionTarget.of(state.record, org_today())
