"""A workflow that only computes deadlines, so a test can run the arithmetic where the case
workflow runs it: in Temporal's sandbox (kept apart from the test module, which the sandbox
would otherwise re-import with pytest)."""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import Deadline, corrected_claim_deadline
    from domain.payer_rules import PayerRule


@workflow.defn
class DeadlinesWorkflow:
    @workflow.run
    async def run(self, rule: PayerRule, remittance: date) -> Deadline:
        return corrected_claim_deadline(rule, remittance)
