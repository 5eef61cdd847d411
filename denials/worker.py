"""The Temporal worker: the case workflow and its activities on one task queue."""

from __future__ import annotations

from concurrent.futures import Executor

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.absence import AbsenceActivities
from activities.prevention import PreventionActivities
from activities.projection import ProjectionActivities
from activities.triage import TriageActivities
from domain.rulebook import Rulebook
from services.payer_rules import PayerRuleStore
from workflows.absence_workflow import AbsenceWorkflow
from workflows.case_workflow import DenialCaseWorkflow


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    rulebook: Rulebook,
    executor: Executor,
    *,
    max_cached_workflows: int = 1000,
) -> Worker:
    triage = TriageActivities(rulebook, PayerRuleStore(engine, rulebook.payer_rules_file))
    projection = ProjectionActivities(engine)
    prevention = PreventionActivities(engine, rulebook)
    absence = AbsenceActivities(engine, client)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[DenialCaseWorkflow, AbsenceWorkflow],
        activities=[
            triage.triage_case,
            triage.current_rule,
            projection.project_case,
            prevention.emit_prevention_task,
            absence.mark,
            absence.redistribute,
            absence.give_back,
        ],
        activity_executor=executor,
        max_cached_workflows=max_cached_workflows,
    )
