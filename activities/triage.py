"""Triage: classify a denial, look up the payer rule that sets its deadlines (and may withhold
appeal rights), and suggest its root cause (a pattern when the read model shows it recurring,
else a one-off)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from db.patterns import pattern_tallies
from domain.case import RootCause
from domain.classification import Classification, apply_payer_appeal_rights
from domain.identity import case_id_for
from domain.payer_rules import PayerRule
from domain.root_cause import (
    DenialFact,
    PatternThresholds,
    analyse,
    denial_carc,
    denial_procedure_code,
)
from domain.rulebook import Rulebook
from services.payer_rules import PayerRuleStore
from workflows.messages import RulesRequest, TriageRequest, TriageResult


class TriageActivities:
    def __init__(
        self,
        rulebook: Rulebook,
        rules: PayerRuleStore,
        engine: Engine | None = None,
        thresholds: PatternThresholds | None = None,
    ) -> None:
        self._rulebook = rulebook
        self._rules = rules  # the payer rules in force, admins' added versions included
        self._engine = engine  # the read model the patterns are counted in
        self._thresholds = thresholds or PatternThresholds()

    @activity.defn(name="triage_case")
    def triage_case(self, request: TriageRequest) -> TriageResult:
        record = request.record
        rulebook = self._rules.rulebook(self._rulebook)
        rule = rulebook.rule_for(record, record.claim.remittance_date or request.received_on)
        # Here rather than in the workflow: the result is recorded, so cases triaged before a
        # rule listed a CARC without appeal rights replay with the rights they were given.
        classification = apply_payer_appeal_rights(rulebook.classify(record), rule)
        suggested = rulebook.suggested_root_cause(classification)
        if self._engine is not None and classification.is_denial:
            suggested = self._look_for_patterns(request, classification, suggested)
        return TriageResult(
            classification=classification,
            rule=rule,
            priority_params=rulebook.priority_params,
            suggested_root_cause=suggested,
        )

    def _look_for_patterns(
        self, request: TriageRequest, classification: Classification, suggested: RootCause
    ) -> RootCause:
        assert self._engine is not None
        claim = request.record.claim
        denied_on = claim.remittance_date or request.received_on
        current = DenialFact(
            case_id=case_id_for(request.record),
            payer_id=claim.payer.payer_id,
            provider_npi=claim.provider_npi,
            carc=denial_carc(classification),
            procedure_code=denial_procedure_code(claim, classification),
            denied_amount=classification.denied_amount,
            denied_on=denied_on,
        )
        since = self._thresholds.window_start(denied_on)
        with Session(self._engine) as session:
            others = pattern_tallies(session, current, since, denied_on)
        analysis = analyse(current, others, self._thresholds, denied_on)
        primary = analysis.primary
        return suggested.model_copy(
            update={
                "pattern": primary is not None,
                "pattern_key": primary.key if primary else None,
                "evidence": analysis.summary(),
            }
        )

    @activity.defn(name="current_payer_rule")
    def current_rule(self, request: RulesRequest) -> PayerRule:
        return self._rules.rulebook(self._rulebook).rule_for(request.record, request.as_of)
