"""Triage: classify a denial and look up the payer rule that sets its deadlines."""

from __future__ import annotations

from temporalio import activity

from domain.payer_rules import PayerRule
from domain.rulebook import Rulebook
from workflows.messages import RulesRequest, TriageRequest, TriageResult


class TriageActivities:
    def __init__(self, rulebook: Rulebook) -> None:
        self._rulebook = rulebook

    @activity.defn(name="triage_case")
    def triage_case(self, request: TriageRequest) -> TriageResult:
        record = request.record
        classification = self._rulebook.classify(record)
        return TriageResult(
            classification=classification,
            rule=self._rulebook.rule_for(
                record, record.claim.remittance_date or request.received_on
            ),
            priority_params=self._rulebook.priority_params,
            suggested_root_cause=self._rulebook.suggested_root_cause(classification),
        )

    @activity.defn(name="current_payer_rule")
    def current_rule(self, request: RulesRequest) -> PayerRule:
        return self._rulebook.rule_for(request.record, request.as_of)
