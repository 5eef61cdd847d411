"""Root cause analysis: is a denial a one-off, or part of a pattern worth fixing upstream?

A pattern is a repeated combination over a trailing window: the same payer + CARC, the same
provider NPI + CARC, or the same procedure code + payer, seen at least a threshold number of
times (the current denial included). The read model supplies the history as plain facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.categories import CategoryProfile
from domain.classification import Classification
from domain.models import Claim


class PatternKind(StrEnum):
    PAYER_CARC = "payer_carc"
    PROVIDER_CARC = "provider_carc"
    PROCEDURE_PAYER = "procedure_payer"


# Most specific first: when several patterns hold, the narrower one names the fix best.
_SPECIFICITY = [PatternKind.PROCEDURE_PAYER, PatternKind.PROVIDER_CARC, PatternKind.PAYER_CARC]


class DenialFact(BaseModel):
    """One denial as the read model knows it: enough to count patterns."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    payer_id: str
    provider_npi: str = ""
    carc: str = ""  # group + reason code of the primary denial adjustment, e.g. "CO-197"
    procedure_code: str = ""
    denied_amount: Decimal = Decimal(0)
    denied_on: date


class PatternKey(BaseModel):
    """What a pattern is about; `key` is its stable text form, used to group prevention items."""

    model_config = ConfigDict(frozen=True)

    kind: PatternKind
    payer_id: str = ""
    provider_npi: str = ""
    carc: str = ""
    procedure_code: str = ""

    @property
    def key(self) -> str:
        match self.kind:
            case PatternKind.PAYER_CARC:
                parts = (self.payer_id, self.carc)
            case PatternKind.PROVIDER_CARC:
                parts = (self.provider_npi, self.carc)
            case PatternKind.PROCEDURE_PAYER:
                parts = (self.procedure_code, self.payer_id)
        return "|".join((self.kind.value, *parts))

    @classmethod
    def parse(cls, key: str) -> PatternKey | None:
        """The pattern behind a prevention item's key, or None for a one-off grouping key."""
        kind, _, rest = key.partition("|")
        first, _, second = rest.partition("|")
        if kind not in PatternKind.__members__.values() or not first or not second:
            return None
        match PatternKind(kind):
            case PatternKind.PAYER_CARC:
                return cls(kind=PatternKind.PAYER_CARC, payer_id=first, carc=second)
            case PatternKind.PROVIDER_CARC:
                return cls(kind=PatternKind.PROVIDER_CARC, provider_npi=first, carc=second)
            case PatternKind.PROCEDURE_PAYER:
                return cls(kind=PatternKind.PROCEDURE_PAYER, procedure_code=first, payer_id=second)

    def matches(self, fact: DenialFact) -> bool:
        match self.kind:
            case PatternKind.PAYER_CARC:
                return fact.payer_id == self.payer_id and fact.carc == self.carc
            case PatternKind.PROVIDER_CARC:
                return fact.provider_npi == self.provider_npi and fact.carc == self.carc
            case PatternKind.PROCEDURE_PAYER:
                return fact.procedure_code == self.procedure_code and fact.payer_id == self.payer_id

    def describe(self, payer_name: str = "") -> str:
        payer = payer_name or self.payer_id
        match self.kind:
            case PatternKind.PAYER_CARC:
                return f"payer {payer} denying with {self.carc}"
            case PatternKind.PROVIDER_CARC:
                return f"provider NPI {self.provider_npi} denied with {self.carc}"
            case PatternKind.PROCEDURE_PAYER:
                return f"procedure {self.procedure_code} denied by payer {payer}"


def candidate_keys(fact: DenialFact) -> list[PatternKey]:
    """The patterns a denial could belong to (a missing CARC, NPI or procedure rules one out)."""
    keys = []
    if fact.procedure_code:
        keys.append(
            PatternKey(
                kind=PatternKind.PROCEDURE_PAYER,
                procedure_code=fact.procedure_code,
                payer_id=fact.payer_id,
            )
        )
    if fact.carc and fact.provider_npi:
        keys.append(
            PatternKey(
                kind=PatternKind.PROVIDER_CARC, provider_npi=fact.provider_npi, carc=fact.carc
            )
        )
    if fact.carc:
        keys.append(PatternKey(kind=PatternKind.PAYER_CARC, payer_id=fact.payer_id, carc=fact.carc))
    return keys


class PatternThresholds(BaseModel):
    """How many denials (the current one included) within the window make a pattern."""

    model_config = ConfigDict(frozen=True)

    window_days: int = Field(default=90, ge=1, description="Trailing window, days")
    payer_carc: int = Field(default=5, ge=2, description="Same payer + CARC")
    provider_carc: int = Field(default=3, ge=2, description="Same NPI + CARC")
    procedure_payer: int = Field(default=4, ge=2, description="Same procedure code + payer")

    def threshold(self, kind: PatternKind) -> int:
        return int(getattr(self, kind.value))

    def window_start(self, as_of: date) -> date:
        return as_of - timedelta(days=self.window_days)


class PatternTally(BaseModel):
    """Other denials of one pattern in the trailing window: how many, and their dollars."""

    model_config = ConfigDict(frozen=True)

    count: int = 0
    dollars: Decimal = Decimal(0)


class PatternMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    pattern: PatternKey
    key: str
    count: int
    threshold: int
    dollars: Decimal


class RootCauseAnalysis(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Literal["pattern", "one_off"]
    as_of: date
    window_days: int
    patterns: list[PatternMatch] = Field(
        default_factory=list, description="Patterns at or above threshold, most specific first"
    )
    counts: dict[str, int] = Field(
        default_factory=dict, description="Every candidate pattern key with its count"
    )

    @property
    def primary(self) -> PatternMatch | None:
        return self.patterns[0] if self.patterns else None

    def summary(self) -> str:
        primary = self.primary
        if primary is None:
            return f"one-off: no pattern at threshold in the last {self.window_days} days"
        return (
            f"pattern: {primary.count} denials in {self.window_days} days for "
            f"{primary.pattern.describe()} (threshold {primary.threshold})"
        )


def analyse(
    current: DenialFact,
    others: Mapping[str, PatternTally],
    thresholds: PatternThresholds,
    as_of: date,
) -> RootCauseAnalysis:
    """Decide pattern or one-off from the other denials counted per candidate pattern key over
    the trailing window (the read model counts them; the current denial is added here)."""
    matches: list[PatternMatch] = []
    counts: dict[str, int] = {}
    for pattern in candidate_keys(current):
        tally = others.get(pattern.key, PatternTally())
        count = tally.count + 1
        counts[pattern.key] = count
        threshold = thresholds.threshold(pattern.kind)
        if count >= threshold:
            matches.append(
                PatternMatch(
                    pattern=pattern,
                    key=pattern.key,
                    count=count,
                    threshold=threshold,
                    dollars=tally.dollars + current.denied_amount,
                )
            )
    matches.sort(key=lambda match: _SPECIFICITY.index(match.pattern.kind))
    return RootCauseAnalysis(
        verdict="pattern" if matches else "one_off",
        as_of=as_of,
        window_days=thresholds.window_days,
        patterns=matches,
        counts=counts,
    )


def denial_carc(classification: Classification | None) -> str:
    primary = classification.primary_adjustment if classification else None
    return primary.code if primary is not None else ""


def denial_procedure_code(claim: Claim, classification: Classification | None) -> str:
    """The procedure the denial is about: the line carrying the primary denial adjustment,
    else the first line with any denial adjustment, else the claim's only line."""
    codes = {adj.code for adj in classification.denial_adjustments} if classification else set()
    primary = classification.primary_adjustment if classification else None
    lines = [line for line in claim.service_lines if line.procedure_code]
    if primary is not None:
        for line in lines:
            if primary in line.adjustments:
                return line.procedure_code
    for line in lines:
        if any(adj.code in codes for adj in line.adjustments):
            return line.procedure_code
    return lines[0].procedure_code if len(lines) == 1 else ""


def recommended_action(profile: CategoryProfile, pattern: PatternKey | None, payer: str) -> str:
    """The category's standing advice, made specific to the pattern when there is one."""
    if pattern is None or not profile.pattern_action:
        return profile.recommended_action
    specific = profile.pattern_action.format(
        payer=payer or pattern.payer_id or "the payer",
        procedure=pattern.procedure_code or "the denied procedures",
        carc=pattern.carc or "this CARC",
        provider=pattern.provider_npi or "the provider",
    )
    return f"{specific} {profile.recommended_action}"
