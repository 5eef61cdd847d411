"""All rule data loaded once: CARC mapping, category profiles, payer rules, priority weights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from domain.categories import CategoryProfile, load_category_profiles
from domain.classification import Classification, ClassificationTable, classify
from domain.models import Category, DenialRecord
from domain.payer_rules import PayerRule, PayerRuleRegistry, load_registry
from domain.priority import PriorityParams, load_priority_params

if TYPE_CHECKING:  # domain.case (deadlines, holidays) is imported only where a case is made
    from domain.case import RootCause


@dataclass(frozen=True)
class Rulebook:
    table: ClassificationTable
    profiles: dict[Category, CategoryProfile]
    registry: PayerRuleRegistry
    priority_params: PriorityParams
    payer_rules_file: Path | None = None

    @classmethod
    def load(
        cls, classification_override: Path | None = None, payer_rules_override: Path | None = None
    ) -> Rulebook:
        profiles = load_category_profiles()
        return cls(
            table=ClassificationTable.load(classification_override),
            profiles=profiles,
            registry=load_registry(payer_rules_override),
            priority_params=load_priority_params(profiles),
            payer_rules_file=payer_rules_override,
        )

    def classify(self, record: DenialRecord) -> Classification:
        return classify(record.claim, record.kind, self.table, self.profiles)

    def rule_for(self, record: DenialRecord, as_of: date) -> PayerRule:
        payer = record.claim.payer
        return self.registry.rule_for(payer.payer_id, payer.type, as_of)

    def suggested_root_cause(self, classification: Classification) -> RootCause:
        """One-off by default; the analytics issue adds pattern detection over the read model."""
        from domain.case import RootCause

        profile = self.profiles[classification.category]
        primary = classification.primary_adjustment
        if primary is not None:
            rule = self.table.rule_for(primary.carc)
            cause = f"{primary.code}: {rule.description}" if rule else primary.code
        else:
            cause = profile.label
        return RootCause(cause=cause[:200], owning_team=profile.owning_team)
