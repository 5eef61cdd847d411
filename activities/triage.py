"""Triage: classify a denial and look up the payer rule that sets its deadlines."""

from __future__ import annotations

from temporalio import activity

from domain.payer_rules import PayerRule
from domain.rulebook import Rulebook
from services.payer_rules import PayerRuleStore
from workflows.messages import RulesRequest, TriageRequest, TriageResult


class TriageActivities:
    def __init__(self, rulebook: Rulebook, rules: PayerRuleStore) -> None:
        self._rulebook = rulebook
        self._rules = rules  # the payer rules in force, admins' added versions included

    @activity.defn(name="triage_case")
    def triage_case(self, request: TriageRequest) -> TriageResult:
        record = request.record
        rulebook = self._rules.rulebook(self._rulebook)
        classification = rulebook.classify(record)
        return TriageResult(
            classification=classification,
            rule=rulebook.rule_for(record, record.claim.remittance_date or request.received_on),
            priority_params=rulebook.priority_params,
            suggested_root_cause=rulebook.suggested_root_cause(classification),
        )

    @activity.defn(name="current_payer_rule")
    def current_rule(self, request: RulesRequest) -> PayerRule:
        return self._rules.rulebook(self._rulebook).rule_for(request.record, request.as_of)
