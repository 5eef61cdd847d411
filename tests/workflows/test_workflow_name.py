"""The case workflow's type is pinned: running cases and saved histories were started under it,
so a renamed or moved class must keep answering to it."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.workflow import _Definition

from workflows.case_workflow import WORKFLOW_NAME, DenialCaseWorkflow

HISTORIES = Path(__file__).with_name("histories")


def test_the_workflow_answers_to_the_name_its_cases_were_started_under() -> None:
    started_as = {
        json.loads(path.read_text())["events"][0]["workflowExecutionStartedEventAttributes"][
            "workflowType"
        ]["name"]
        for path in HISTORIES.glob("*.json")
    }
    assert started_as == {"DenialCaseWorkflow"}
    assert WORKFLOW_NAME == "DenialCaseWorkflow"
    definition = _Definition.must_from_class(DenialCaseWorkflow)
    assert definition.name == WORKFLOW_NAME


def test_its_handlers_keep_their_names_wherever_they_are_defined() -> None:
    """Updates and Signals are recorded in histories by name, and services call them by name:
    moving a handler to another module (a mixin) must leave every name registered."""
    definition = _Definition.must_from_class(DenialCaseWorkflow)
    assert set(definition.updates) == {
        "complete_task",
        "claim_task",
        "release_task",
        "reassign_task",
        "change_priority",
        "add_note",
        "cancel_case",
        "record_extension",
        "record_attestation",
        "refresh_rules",
        "identify_claim",
        "return_user_work",
    }
    assert all(update.validator is not None for update in definition.updates.values())
    assert set(definition.signals) == {"payer_response"}
    assert set(definition.queries) == {"state"}
