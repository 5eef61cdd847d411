"""The Temporal worker: the case workflow and its activities on one task queue."""

from __future__ import annotations

import tempfile
from concurrent.futures import Executor
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.absence import AbsenceActivities
from activities.deactivation import DeactivationActivities
from activities.prevention import PreventionActivities
from activities.projection import ProjectionActivities
from activities.risk_models import RiskModelActivities
from activities.stopped_cases import StoppedCaseActivities
from activities.submission import SubmissionActivities
from activities.triage import TriageActivities
from domain.root_cause import PatternThresholds
from domain.rulebook import Rulebook
from edi.claim837 import Submitter
from services.clearinghouse import ClearinghouseAdapter, OutboxAdapter
from services.documents import DocumentStore
from services.payer_rules import PayerRuleStore
from workflows.absence_workflow import AbsenceWorkflow
from workflows.case_workflow import DenialCaseWorkflow
from workflows.deactivation_workflow import DeactivationWorkflow
from workflows.risk_retrain import RiskRetrainWorkflow
from workflows.stopped_case_sweep import StoppedCaseSweepWorkflow

# Every workflow the worker runs (each Update needs a validator: that is where seals are
# checked, see denials/actor_seals.py).
WORKFLOWS = [
    DenialCaseWorkflow,
    AbsenceWorkflow,
    DeactivationWorkflow,
    StoppedCaseSweepWorkflow,
    RiskRetrainWorkflow,
]


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    rulebook: Rulebook,
    executor: Executor,
    *,
    max_cached_workflows: int = 1000,
    pattern_thresholds: PatternThresholds | None = None,
    data_dir: Path | None = None,
    adapter: ClearinghouseAdapter | None = None,
    submitter: Submitter | None = None,
    sandboxed: bool = True,
) -> Worker:
    """`data_dir` holds case documents and the default outbox; None (benchmarks, tests that do
    not look at them) means a fresh temporary folder.

    `sandboxed` runs the workflows in Temporal's sandbox, which re-imports the workflow module
    for every case and checks each call for non-determinism. The workflow tests and the
    replayer keep it, so a non-deterministic call they reach fails there; the production
    worker may leave it off: on 2 cores the sandbox made the ingest of 1,000 denials about a
    third slower (bench/ingest_embedded.py)."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="denials-data-"))
    submission = SubmissionActivities(
        engine,
        rulebook,
        adapter or OutboxAdapter(data_dir / "outbox"),
        DocumentStore(data_dir),
        submitter or Submitter(),
    )
    triage = TriageActivities(
        rulebook, PayerRuleStore(engine, rulebook.payer_rules_file), engine, pattern_thresholds
    )
    projection = ProjectionActivities(engine)
    prevention = PreventionActivities(engine, rulebook)
    absence = AbsenceActivities(engine, client)
    deactivation = DeactivationActivities(engine, client)
    stopped_cases = StoppedCaseActivities(engine, client)
    risk_models = RiskModelActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            triage.triage_case,
            triage.current_rule,
            projection.project_case,
            projection.closed_case_state,
            prevention.emit_prevention_task,
            absence.mark,
            absence.redistribute,
            absence.give_back,
            deactivation.hand_back,
            submission.submit,
            stopped_cases.sweep,
            risk_models.retrain,
        ],
        activity_executor=executor,
        max_cached_workflows=max_cached_workflows,
        workflow_runner=SandboxedWorkflowRunner() if sandboxed else UnsandboxedWorkflowRunner(),
    )
