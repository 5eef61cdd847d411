"""Payer rules as the product runs them: the shipped and customer files, plus the rule
versions admins add through the API (stored in the database).

Workers pick up an added version within seconds (the store looks for new rows at most every
few seconds), so new cases use it at once; open cases move to it when a supervisor refreshes
their deadlines. `preview` says, before saving, which open cases' deadlines that would move.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import CaseRow, PayerRuleVersionRow
from domain.case import Actor, CaseState, CaseStatus
from domain.payer_rules import (
    PayerRule,
    PayerRuleRegistry,
    RuleDocument,
    RulesFileError,
    load_registry,
)
from domain.rule_preview import RulePreview, preview
from domain.rulebook import Rulebook
from services.errors import Invalid

_CHECK_EVERY_SECONDS = 2.0


def _admin_documents(rows: list[PayerRuleVersionRow]) -> list[RuleDocument]:
    return [(f"admin {row.created_by} #{row.id}", {"rule": [row.rule]}) for row in rows]


class PayerRuleStore:
    def __init__(self, engine: Engine, override_file: Path | None = None) -> None:
        self._engine = engine
        self._override_file = override_file
        self._lock = threading.Lock()
        self._registry: PayerRuleRegistry | None = None
        self._seen: tuple[int, int | None] | None = None
        self._checked_at = 0.0

    def _rows(self, session: Session) -> list[PayerRuleVersionRow]:
        return list(session.exec(select(PayerRuleVersionRow).order_by(col(PayerRuleVersionRow.id))))

    def registry(self) -> PayerRuleRegistry:
        """The current registry; rebuilt when admins have added versions since last time."""
        with self._lock:
            now = time.monotonic()
            if self._registry is not None and now - self._checked_at < _CHECK_EVERY_SECONDS:
                return self._registry
            self._checked_at = now
            with Session(self._engine) as session:
                seen = session.exec(select(func.count(), func.max(PayerRuleVersionRow.id))).one()
                if self._registry is None or tuple(seen) != self._seen:
                    documents = _admin_documents(self._rows(session))
                    self._registry = load_registry(self._override_file, documents)
                    self._seen = tuple(seen)  # type: ignore[assignment]
            return self._registry

    def rulebook(self, base: Rulebook) -> Rulebook:
        return replace(base, registry=self.registry())

    def _candidate(
        self, session: Session, raw: dict[str, Any], actor: Actor
    ) -> tuple[PayerRuleRegistry, PayerRule]:
        """The registry with `raw` added last, and the new version, validated against every
        rule in force (a `based_on` may name any of them); Invalid says what is wrong."""
        rows = self._rows(session)
        document = (f"new rule from {actor.user_id}", {"rule": [raw]})
        try:
            registry = load_registry(self._override_file, [*_admin_documents(rows), document])
        except RulesFileError as exc:
            raise Invalid(str(exc)) from exc
        return registry, registry.rules_in_order[-1]

    def add(self, raw: dict[str, Any], actor: Actor) -> PayerRule:
        """Validate a new rule version and store it; errors come back as 422 with what is
        wrong."""
        with Session(self._engine) as session:
            _, rule = self._candidate(session, raw, actor)
            row = PayerRuleVersionRow(
                rule_id=rule.id,
                effective_from=rule.effective_from,
                rule=raw,
                created_by=actor.user_id,
                created_at=datetime.now(UTC),
            )
            session.add(row)
            session.commit()
            rule = rule.model_copy(update={"origin": _admin_documents([row])[0][0]})
        with self._lock:
            self._checked_at = 0.0  # look again at the next use
        return rule

    def preview(self, raw: dict[str, Any], actor: Actor, today: date) -> RulePreview:
        """What saving `raw` would do to the open cases of its payer (or payer type), saving
        nothing (domain.rule_preview)."""
        with Session(self._engine) as session:
            registry, rule = self._candidate(session, raw, actor)
            states = [CaseState.model_validate(state) for state in _open_states(session, rule)]
        return preview(states, registry, rule, today)

    def rules(self, payer_id: str | None = None, as_of: date | None = None) -> list[PayerRule]:
        rules = self.registry().rules
        if payer_id is not None:
            rules = [r for r in rules if r.payer_id in (None, payer_id)]
        if as_of is not None:
            rules = [r for r in rules if r.effective_from <= as_of]
        return rules


def _open_states(session: Session, rule: PayerRule) -> list[dict[str, Any]]:
    """The saved state of every open case the rule could govern: its payer's, or its payer
    type's (a payer's own rule may still win: the preview asks the registry)."""
    statement = select(CaseRow.state).where(
        col(CaseRow.status).not_in([CaseStatus.RECEIVED.value, CaseStatus.CLOSED.value])
    )
    if rule.payer_id is not None:
        statement = statement.where(col(CaseRow.payer_id) == rule.payer_id)
    else:
        assert rule.payer_type is not None  # a rule names exactly one of the two
        statement = statement.where(col(CaseRow.payer_type) == rule.payer_type.value)
    return list(session.exec(statement.order_by(col(CaseRow.case_id))))
