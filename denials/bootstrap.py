"""What the commands open first: the read model's database (migrated) and the rulebook. Apart
from denials.launch so that a command needing only these does not import the app."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.settings import Settings
from db.engine import check_schema, make_engine, migrate
from domain.rulebook import Rulebook


def prepare_database(settings: Settings, *, migrate_schema: bool | None = None) -> Engine:
    """The engine, its schema migrated (`migrate_schema`, default the DENIALS_MIGRATE_ON_START
    setting) or checked current (db.engine.SchemaNotCurrent otherwise)."""
    engine = make_engine(settings.effective_database_url, pool_size=settings.database_pool)
    try:
        if settings.migrate_on_start if migrate_schema is None else migrate_schema:
            migrate(engine)
        else:
            check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def load_rulebook(settings: Settings) -> Rulebook:
    return Rulebook.load(settings.classification_override_file, settings.payer_rules_file)
