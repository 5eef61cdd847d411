"""Payer rules: everyone who works cases reads them; admins add rule versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status

from api.errors import ERROR_RESPONSES
from app.deps import AuditDep, RuleManager, RuleReader, TodayDep
from domain.payer_rules import PayerRule
from domain.rule_preview import RulePreview
from services.payer_rules import PayerRuleStore

router = APIRouter(prefix="/api/v1/payer-rules", tags=["payer rules"], responses=ERROR_RESPONSES)

EXAMPLE = {
    "id": "acme-2027",
    "payer_id": "ACME1",
    "based_on": "commercial-erisa",
    "effective_from": "2027-01-01",
    "source": "ACME provider manual 2027, section 9",
    "appeal_levels": [
        {"level": 1, "name": "Reconsideration", "filing_days": 90, "decision_days": 30}
    ],
}


def _store(request: Request) -> PayerRuleStore:
    return request.app.state.rule_store  # type: ignore[no-any-return]


@router.get("")
def list_rules(
    request: Request,
    actor: RuleReader,
    payer_id: str | None = None,
    as_of: Annotated[date | None, Query(description="Only versions in effect by then")] = None,
) -> list[PayerRule]:
    """Every rule version in force: shipped, customer file, and admins' additions."""
    return _store(request).rules(payer_id, as_of)


@router.post("", status_code=status.HTTP_201_CREATED)
def add_rule(
    request: Request,
    actor: RuleManager,
    audit: AuditDep,
    rule: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
) -> PayerRule:
    """Add a rule version with its effective date (per payer type, or per payer id; `based_on`
    inherits every field not given). New cases use it from its effective date."""
    added = _store(request).add(rule, actor)
    audit.record(
        actor, "payer_rule.add", rule_id=added.id, effective_from=added.effective_from.isoformat()
    )
    return added


@router.post("/preview")
def preview_rule(
    request: Request,
    actor: RuleManager,
    today: TodayDep,
    rule: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
) -> RulePreview:
    """What adding this version would do, saving nothing. Saving moves no open case's deadlines
    by itself: a case keeps its rule until a supervisor recounts its deadlines (refresh-rules),
    which takes the rule in force that day. `changes` lists, per open case the version would
    then govern (by case id: no PHI), each deadline that would move, if recounted on or after
    `recount_on` (today, or the effective date if later); `cases_governed` counts them all."""
    return _store(request).preview(rule, actor, today())
