"""Saved histories must replay on the current workflow code without non-determinism.

A failure here means a change would break running cases: guard it with `workflow.patched`
instead of re-recording (see record_histories.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from denials.actor_seals import ActorSeals
from tests.encrypted_env import TEST_KEYRING
from workflows.case_workflow import DenialCaseWorkflow

HISTORIES = sorted(Path(__file__).with_name("histories").glob("*.json"))


def load_history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_histories_of_every_version_are_saved() -> None:
    scenarios = ("appeal_chain", "escalation_and_loss", "rejection_resubmitted")
    versions = ("v1-activities", "v2-local-activities", "v3-submission-adapter")
    latest = "v4-partial-payment-review"
    expected = {f"{s}.{v}" for s in scenarios for v in (*versions, latest)}
    # Partial payments closed the case at once before v4; this history proves they still do.
    expected |= {"partial_payment.v3-submission-adapter", f"partial_payment.{latest}"}
    # Before v5 a corrected claim denied after the last appeal level reopened that level.
    reappeal = "corrected_after_last_appeal"
    expected |= {f"{reappeal}.{latest}", f"{reappeal}.v5-no-reappeal-of-decided-level"}
    # v6 bounds history and work: every scenario again, a submission that failed first, and
    # a supervised case continued as new (each run saved; the later ones start resumed).
    bounded = "v6-bounded-run"
    expected |= {f"{s}.{bounded}" for s in (*scenarios, "partial_payment", reappeal)}
    expected |= {f"submission_failure.{bounded}", f"continued.{bounded}.run1"}
    expected |= {f"continued.{bounded}.run2"}
    # A case the v5 code continued as new (its whole timeline in the state it carried) that
    # the v6 code took over: record_handover.py.
    expected |= {"handover.v5-no-reappeal-of-decided-level.run1", f"handover.{bounded}.run2"}
    # v7: a 'paid' answer of $0 is no recovery, a balance moved to the patient, a 999
    # rejection identified by the biller, and the run that records a payment after a write-off.
    money = "v7-money-and-identity"
    expected |= {f"{s}.{money}" for s in ("payer_money", "identified_rejection", "late_payment")}
    # A 'paid' answer of $0 on the code before no-zero-recovery: it closed the case recovered,
    # and still does on replay (recorded from a worktree of 6bf13ec).
    expected |= {f"zero_payment.{bounded}"}
    assert {path.stem for path in HISTORIES} >= expected


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = load_history(path)
    # With the product's seal checks: signals recorded before seals existed must still apply.
    replayer = Replayer(
        workflows=[DenialCaseWorkflow],
        data_converter=pydantic_data_converter,
        interceptors=[ActorSeals(TEST_KEYRING)],
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
