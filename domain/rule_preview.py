"""What a new payer rule version would do, worked out before an admin saves it.

Saving a version changes no open case by itself: a case keeps the rule it was triaged with
until a supervisor recounts its deadlines (the case's refresh-rules action), which takes the
rule in force on the day of the recount. New cases take the rule in force on their denial date
(the remittance date, else the day received). So the preview answers: which open cases would
the version govern if recounted once it is in force, and which of their deadlines would move.
It names cases by their case id and payer id only: admins see no PHI.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.case import CaseState, CaseStatus, case_deadlines
from domain.deadlines import Deadline
from domain.payer_rules import PayerRule, PayerRuleRegistry

# The refresh-rules action refuses these (nothing to recount, or nothing left to work).
_NOT_RECOUNTED = (CaseStatus.RECEIVED, CaseStatus.CLOSED)


class DeadlineChange(BaseModel):
    """One deadline of one open case that a recount under the new version would move, add or
    drop (a missing date: the deadline would not exist before, or after)."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    payer_id: str
    deadline: str
    current_due: date | None
    new_due: date | None


class RulePreview(BaseModel):
    """The version as it would be saved and what it would change."""

    rule: PayerRule
    recount_on: date
    cases_governed: int
    changes: list[DeadlineChange]


def recount_day(version: PayerRule, today: date) -> date:
    """The first day a recount would take the version: today, or its effective date if later."""
    return max(today, version.effective_from)


def _by_key(deadlines: Iterable[Deadline]) -> dict[str, Deadline]:
    return {deadline.key: deadline for deadline in deadlines}


def deadline_changes(
    state: CaseState, registry: PayerRuleRegistry, version: PayerRule, recount_on: date
) -> list[DeadlineChange] | None:
    """The deadlines of one case that move if it is recounted on `recount_on` with `registry`
    (which holds `version`); None when the recount would not take `version` for this case
    (closed, not triaged yet, or another rule governs it then: a payer's own rule before a
    payer-type default, the newest version in effect)."""
    if state.status in _NOT_RECOUNTED or state.rule is None:
        return None
    payer = state.record.claim.payer
    if registry.rule_for(payer.payer_id, payer.type, recount_on) is not version:
        return None
    current, new = _by_key(state.deadlines), _by_key(case_deadlines(state, version))
    changes = []
    for key in [*current, *(k for k in new if k not in current)]:
        before, after = current.get(key), new.get(key)
        if before is not None and after is not None and before.due == after.due:
            continue
        shown = before or after
        assert shown is not None
        changes.append(
            DeadlineChange(
                case_id=state.case_id,
                payer_id=payer.payer_id,
                deadline=shown.label,
                current_due=before.due if before else None,
                new_due=after.due if after else None,
            )
        )
    return changes


def preview(
    states: Iterable[CaseState], registry: PayerRuleRegistry, version: PayerRule, today: date
) -> RulePreview:
    """What recounting the open cases `states` would do once `version` (held by `registry`)
    is in force."""
    recount_on = recount_day(version, today)
    governed, changes = 0, []
    for state in states:
        found = deadline_changes(state, registry, version, recount_on)
        if found is not None:
            governed += 1
            changes.extend(found)
    return RulePreview(
        rule=version, recount_on=recount_on, cases_governed=governed, changes=changes
    )


class PayerRules(BaseModel):
    """One payer (or payer type default) and its versions: the one in force today, those
    scheduled, and how many earlier ones it superseded."""

    applies_to: str
    by_payer_id: bool  # else the default of a payer type
    current: PayerRule | None
    scheduled: list[PayerRule]
    superseded: int


def rules_per_payer(rules: Iterable[PayerRule], today: date) -> list[PayerRules]:
    """The versions grouped per payer id or payer type, payer types first."""
    groups: dict[tuple[bool, str], list[PayerRule]] = {}
    for rule in rules:
        key = (rule.payer_id is not None, rule.payer_id or str(rule.payer_type))
        groups.setdefault(key, []).append(rule)
    result = []
    for (by_payer_id, applies_to), versions in sorted(groups.items()):
        versions.sort(key=lambda rule: rule.effective_from)  # stable: later entries win ties
        in_force = [rule for rule in versions if rule.effective_from <= today]
        result.append(
            PayerRules(
                applies_to=applies_to,
                by_payer_id=by_payer_id,
                current=in_force[-1] if in_force else None,
                scheduled=[rule for rule in versions if rule.effective_from > today],
                superseded=max(0, len(in_force) - 1),
            )
        )
    return result
