"""What the commands open first: the read model's database (migrated) and the rulebook. Apart
from denials.stack so that a command needing only these does not import the app."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from db.engine import make_engine, migrate
from denials.config import Settings
from domain.rulebook import Rulebook


def prepare_database(settings: Settings) -> Engine:
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    return engine


def load_rulebook(settings: Settings) -> Rulebook:
    return Rulebook.load(settings.classification_override_file, settings.payer_rules_file)
