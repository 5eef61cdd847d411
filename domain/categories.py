"""Per-category knowledge: how a category is usually worked and who owns its prevention."""

from __future__ import annotations

import tomllib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.data_files import read_data_text
from domain.models import Category, WorkPath


class OwningTeam(StrEnum):
    """The upstream team that owns preventing a denial's root cause."""

    REGISTRATION = "registration"
    PRIOR_AUTHORIZATION = "prior_authorization"
    CODING = "coding"
    CLINICAL_DOCUMENTATION = "clinical_documentation"
    BILLING = "billing"
    CONTRACTING = "contracting"
    PAYER_ERROR = "payer_error"


class CategoryProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: Category
    label: str
    suggested_path: WorkPath
    owning_team: OwningTeam
    expected_recovery: float = Field(ge=0, le=1)
    recommended_action: str
    pattern_action: str = Field(
        default="", description="Advice for a pattern; {payer} {procedure} {carc} {provider}"
    )


def load_category_profiles() -> dict[Category, CategoryProfile]:
    raw = tomllib.loads(read_data_text("categories.toml"))
    profiles = {
        Category(name): CategoryProfile(category=Category(name), **values)
        for name, values in raw.items()
    }
    missing = set(Category) - set(profiles)
    if missing:
        raise ValueError(f"categories.toml lacks profiles for: {sorted(c.value for c in missing)}")
    return profiles
