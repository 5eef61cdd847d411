"""The settings naming the rule files (DENIALS_CLASSIFICATION_OVERRIDE_FILE,
DENIALS_PAYER_RULES_FILE), apart from the rest of app.settings.Settings, which has them too:
`denials parse` reads only these, and app.settings imports the case model (deadlines, the
holiday calendar) that a parse does not need (a tenth of a second or more to import)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SETTINGS_CONFIG = SettingsConfigDict(env_prefix="DENIALS_", env_file=".env", extra="ignore")


class RuleFileSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    classification_override_file: Path | None = Field(
        default=None, description="CSV overriding rows of domain/data/carc_categories.csv"
    )
    payer_rules_file: Path | None = Field(
        default=None, description="TOML adding or overriding payer rules"
    )
