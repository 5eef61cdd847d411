"""Priority score with an explainable breakdown.

score = denied amount x expected recovery x urgency / effort hours (x a supervisor's adjustment)

It reads as "expected dollars recovered per hour of work, weighted by how soon the chance is
lost". Worklists sort by it and users see each factor.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from domain.categories import CategoryProfile
from domain.data_files import read_data_text
from domain.models import Category, WorkPath


class UrgencyBand(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_days: int
    factor: float = Field(ge=0)
    label: str


class PriorityParams(BaseModel):
    """Everything the score needs besides the case: a snapshot the workflow can carry."""

    model_config = ConfigDict(frozen=True)

    expected_recovery: dict[Category, float]
    effort_hours: dict[WorkPath, float]
    urgency: list[UrgencyBand] = Field(min_length=1)

    def urgency_for(self, days_left: int | None) -> UrgencyBand:
        if days_left is None:
            return self.urgency[-1]
        return next((b for b in self.urgency if days_left <= b.max_days), self.urgency[-1])


class PriorityFactor(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    value: float
    explanation: str


class PriorityBreakdown(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: float
    factors: list[PriorityFactor]

    def summary(self) -> str:
        return " x ".join(f"{f.name} {f.value:g}" for f in self.factors) + f" = {self.score:g}"


def load_priority_params(profiles: dict[Category, CategoryProfile]) -> PriorityParams:
    raw = tomllib.loads(read_data_text("priority.toml"))
    return PriorityParams(
        expected_recovery={c: p.expected_recovery for c, p in profiles.items()},
        effort_hours={WorkPath(k): v for k, v in raw["effort_hours"].items()},
        urgency=sorted(
            (UrgencyBand(**band) for band in raw["urgency"]), key=lambda band: band.max_days
        ),
    )


def priority_score(
    *,
    denied_amount: Decimal,
    category: Category,
    path: WorkPath,
    days_left: int | None,
    params: PriorityParams,
    adjustment: float = 1.0,
    adjustment_reason: str = "",
) -> PriorityBreakdown:
    recovery = params.expected_recovery.get(category, 0.0)
    effort = params.effort_hours.get(path, 1.0) or 1.0
    band = params.urgency_for(days_left)
    amount = float(denied_amount)
    deadline_text = "no deadline" if days_left is None else f"{days_left} days to the deadline"
    factors = [
        PriorityFactor(name="denied amount", value=round(amount, 2), explanation="dollars denied"),
        PriorityFactor(
            name="expected recovery",
            value=recovery,
            explanation=f"share usually recovered for {category.value.replace('_', ' ')}",
        ),
        PriorityFactor(
            name="urgency", value=band.factor, explanation=f"{deadline_text} ({band.label})"
        ),
        PriorityFactor(
            name="effort",
            value=effort,
            explanation=f"hours of work for the {path.value.replace('_', ' ')} path (divides)",
        ),
    ]
    score = amount * recovery * band.factor / effort
    if adjustment != 1.0:
        factors.append(
            PriorityFactor(
                name="supervisor adjustment",
                value=adjustment,
                explanation=adjustment_reason or "set by a supervisor",
            )
        )
        score *= adjustment
    return PriorityBreakdown(score=round(score, 2), factors=factors)
