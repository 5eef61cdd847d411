"""Payer rules registry: filing limits, appeal levels and decision time frames, kept as data.

Shipped defaults live in `domain/data/payer_rules.toml`; a customer file with the same shape
overrides or adds rules (per payer type or per payer id). Rule selection is by payer id first,
then payer type, taking the newest version in effect on the date asked about.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.data_files import read_data_text
from domain.models import PayerType


class RulesFileError(ValueError):
    """A payer rules file that cannot be used, with the file and rule named."""


class Period(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int | None = Field(default=None, ge=0)
    months: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> Period:
        if (self.days is None) == (self.months is None):
            raise ValueError("give exactly one of 'days' or 'months'")
        return self

    def describe(self) -> str:
        if self.months is not None:
            return f"{self.months} month{'s' if self.months != 1 else ''}"
        return f"{self.days} day{'s' if self.days != 1 else ''}"


class CorrectedClaimRule(Period):
    decision_days: int = Field(default=30, ge=0)


class AppealLevelRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: int = Field(ge=1)
    name: str
    filing_days: int = Field(ge=1)
    decision_days: int | None = Field(default=None, ge=1)
    minimum_in_dispute: Decimal = Decimal(0)


class NoAppealRights(BaseModel):
    """A denial reason (CARC) that this payer's rules give no right to appeal, with the rule
    that says so: a case denied for it goes to write-off review instead."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    carc: str = Field(min_length=1, max_length=5)
    citation: str = Field(min_length=1)

    @field_validator("carc")
    @classmethod
    def _normalise_carc(cls, value: str) -> str:
        return value.strip().upper()


class PayerRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    payer_type: PayerType | None = None
    payer_id: str | None = None
    effective_from: date
    source: str
    timely_filing: Period
    corrected_claim: CorrectedClaimRule
    presumed_receipt_days: int = Field(default=0, ge=0)
    appeal_levels: list[AppealLevelRule] = Field(min_length=1)
    no_appeal_rights: list[NoAppealRights] = Field(default_factory=list)
    prior_authorization_codes: list[str] = Field(
        default_factory=list,
        description="Procedure codes (CPT/HCPCS) this payer pays only with a prior authorization "
        "on the claim (REF*G1): the pre-submission check blocks a line without one",
    )
    rolls_to_business_day: bool = Field(
        default=False,
        description="A filing deadline falling on a weekend or US federal holiday moves to the "
        "next business day; by default the payer's count of days is the count",
    )
    origin: str = Field(default="", description="The file or admin entry the rule came from")

    @model_validator(mode="after")
    def _check(self) -> PayerRule:
        if (self.payer_type is None) == (self.payer_id is None):
            raise ValueError("a rule applies to exactly one of 'payer_type' or 'payer_id'")
        levels = [lvl.level for lvl in self.appeal_levels]
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError(f"appeal levels must be numbered 1..n in order, got {levels}")
        return self

    def no_appeal_for(self, carc: str) -> NoAppealRights | None:
        """The entry withholding appeal rights for a denial with CARC `carc`, if any."""
        return next((entry for entry in self.no_appeal_rights if entry.carc == carc), None)

    def appeal_level(self, level: int) -> AppealLevelRule | None:
        return next((lvl for lvl in self.appeal_levels if lvl.level == level), None)

    @property
    def max_appeal_level(self) -> int:
        return len(self.appeal_levels)


class PayerRuleRegistry:
    """All rule versions, answering 'which rule governs this payer on this date?'."""

    def __init__(self, rules: Iterable[PayerRule]) -> None:
        self.rules_in_order = list(rules)  # as the documents gave them
        self._rules = sorted(self.rules_in_order, key=lambda rule: rule.effective_from)
        for payer_type in PayerType:
            if not any(rule.payer_type == payer_type for rule in self._rules):
                raise RulesFileError(f"no payer rule for payer type '{payer_type.value}'")

    @property
    def rules(self) -> list[PayerRule]:
        return list(self._rules)

    def rule_for(self, payer_id: str, payer_type: PayerType, as_of: date) -> PayerRule:
        """The newest rule in effect on `as_of`: payer-specific first, then the type default.

        When no version of either is in effect yet on `as_of` (a date before every version),
        the oldest applies: a deadline is better computed from an early rule than not at all.
        """
        own = [rule for rule in self._rules if rule.payer_id == payer_id]
        by_type = [rule for rule in self._rules if rule.payer_type == payer_type]
        for candidates in (own, by_type):
            in_effect = [rule for rule in candidates if rule.effective_from <= as_of]
            if in_effect:
                return in_effect[-1]
        return (own or by_type)[0]


def _merge_based_on(raw_rules: list[dict[str, Any]], origin: str) -> list[dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    merged: list[dict[str, Any]] = []
    for raw in raw_rules:
        base_id = raw.pop("based_on", None)
        if base_id is not None and not isinstance(base_id, str):
            raise RulesFileError(
                f"{origin}: rule '{raw.get('id')}': based_on must be a rule id, not {base_id!r}"
            )
        if base_id is not None:
            if base_id not in by_id:
                raise RulesFileError(
                    f"{origin}: rule '{raw.get('id')}' is based on unknown rule '{base_id}' "
                    "(a base must come earlier in the files)"
                )
            base = {k: v for k, v in by_id[base_id].items() if k not in ("payer_type", "payer_id")}
            raw = {**base, **raw}
        by_id[str(raw.get("id"))] = raw
        merged.append(raw)
    return merged


def parse_rules(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PayerRule]:
    """Turn parsed TOML documents (origin name, content) into validated rules.

    Later documents may base rules on earlier ones; errors name the file and the rule.
    """
    raw_rules: list[dict[str, Any]] = []
    origins: list[str] = []
    for origin, document in documents:
        for raw in document.get("rule", []):
            raw_rules.append(dict(raw))
            origins.append(origin)
    rules: list[PayerRule] = []
    merged = _merge_based_on(raw_rules, ", ".join(dict.fromkeys(origins)) or "rules")
    for origin, raw in zip(origins, merged, strict=True):
        try:
            rules.append(PayerRule.model_validate({**raw, "origin": origin}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'rule'}: {err['msg']}"
                for err in exc.errors()
            )
            raise RulesFileError(f"{origin}: rule '{raw.get('id', '?')}': {problems}") from exc
    return rules


RuleDocument = tuple[str, Mapping[str, Any]]


def rule_documents(override_file: Path | None = None) -> list[RuleDocument]:
    """Shipped defaults, then an optional customer file whose rules add to or supersede them."""
    documents: list[RuleDocument] = [
        ("payer_rules.toml", tomllib.loads(read_data_text("payer_rules.toml")))
    ]
    if override_file is not None:
        try:
            documents.append((str(override_file), tomllib.loads(override_file.read_text())))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RulesFileError(f"{override_file}: {exc}") from exc
    return documents


def load_registry(
    override_file: Path | None = None, later: Iterable[RuleDocument] = ()
) -> PayerRuleRegistry:
    """The registry of the shipped rules, a customer file, then `later` documents (rule
    versions admins added) in that order."""
    return PayerRuleRegistry(parse_rules([*rule_documents(override_file), *later]))
