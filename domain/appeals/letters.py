"""Appeal letters: the facts a letter states, which template states them, and rendering.

Templates live in `domain/data/letters/` (plain-text Jinja2, so billers can edit the result).
The most specific template wins: payer id, then payer type, then the default, each first for
the category at this level, then for the category at any level (see `template_candidates`).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict

from domain.appeals.attestation import ATTESTATION_REQUIRED, PENDING_ATTESTATION, Attestation
from domain.appeals.enclosures import Enclosure, enclosures_for
from domain.case import CaseState, PayerDecision, SubmissionKind
from domain.categories import load_category_profiles
from domain.classification import ClassificationTable
from domain.models import Category

LETTERS_DIR = "letters"


class CodeLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    description: str


class ServiceLineFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    procedure: str
    modifiers: str
    service_date: date | None
    units: Decimal
    billed: Decimal
    paid: Decimal
    reasons: str


class FilingProof(BaseModel):
    """One record that the claim reached the payer: when, what, and its reference."""

    model_config = ConfigDict(frozen=True)

    on: date
    what: str
    reference: str = ""


class LetterFacts(BaseModel):
    """Everything a letter template may state. Built from the case; templates only format."""

    model_config = ConfigDict(frozen=True)

    today: date
    category: Category
    category_label: str
    level: int
    level_name: str
    max_level: int
    filing_deadline: date | None
    filing_days: int
    decision_days: int | None
    minimum_in_dispute: Decimal
    previous_decision_date: date | None
    rule_id: str
    rule_source: str
    timely_filing_limit: str
    payer_name: str
    payer_id: str
    payer_type: str
    claim_id: str
    payer_claim_control_number: str
    claim_type: str
    provider_npi: str
    patient_name: str
    member_id: str
    birth_date: date | None
    service_from: date
    service_to: date
    remittance_date: date | None
    billed: Decimal
    paid: Decimal
    denied: Decimal
    reasons: list[CodeLine]
    remarks: list[CodeLine]
    service_lines: list[ServiceLineFacts]
    enclosures: list[Enclosure]
    filing_proofs: list[FilingProof]
    attestation_required: bool
    attestation: Attestation | None


class RenderedLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    template: str
    body: str


class LetterError(ValueError):
    """A letter cannot be built for this case (not triaged, no such appeal level)."""


def filing_proofs(state: CaseState) -> list[FilingProof]:
    """What the case knows about the claim reaching the payer, oldest first: the payer's own
    acknowledgements and adjudication, then every submission made from this case."""
    claim = state.record.claim
    proofs: list[FilingProof] = []
    if claim.remittance_date is not None:
        proofs.append(
            FilingProof(
                on=claim.remittance_date,
                what=f"Payer's {state.kind.value} notice received ({state.record.source})",
                reference=claim.payer_claim_control_number,
            )
        )
    for response in state.payer_responses:
        if response.decision is PayerDecision.ACCEPTED:
            proofs.append(
                FilingProof(
                    on=response.decision_date,
                    what="Claim accepted into adjudication (277CA)",
                    reference=response.reference,
                )
            )
    for submission in state.submissions:
        what = (
            "Corrected claim submitted"
            if submission.kind is SubmissionKind.CORRECTED_CLAIM
            else f"Level {submission.appeal_level} appeal submitted"
        )
        proofs.append(
            FilingProof(on=submission.submitted_on, what=what, reference=submission.reference)
        )
    return sorted(proofs, key=lambda proof: proof.on)


def _reasons(state: CaseState, table: ClassificationTable) -> list[CodeLine]:
    adjustments = (
        state.classification.denial_adjustments
        if state.classification and state.classification.denial_adjustments
        else state.record.claim.all_adjustments()
    )
    lines: dict[str, CodeLine] = {}
    for adjustment in adjustments:
        rule = table.rule_for(adjustment.carc)
        description = rule.description if rule else "reason code not in the CARC table"
        lines.setdefault(adjustment.code, CodeLine(code=adjustment.code, description=description))
    return list(lines.values())


def _remarks(state: CaseState, table: ClassificationTable) -> list[CodeLine]:
    known = {code: effect.value.replace("_", " ") for code, effect in table.rarc_effects.items()}
    return [
        CodeLine(code=code, description=known.get(code, "see the remittance advice remark"))
        for code in state.record.claim.all_rarcs()
    ]


def build_letter_facts(
    state: CaseState, table: ClassificationTable, today: date, level: int | None = None
) -> LetterFacts:
    """The facts of the letter for appeal `level` (default: the case's current level)."""
    if state.rule is None or state.category is None:
        raise LetterError("the case has not been triaged yet: no category or payer rule")
    level = level or max(state.appeal_level, 1)
    level_rule = state.rule.appeal_level(level)
    if level_rule is None:
        raise LetterError(f"payer rule {state.rule.id} has no appeal level {level}")
    claim = state.record.claim
    deadline = state.deadline(f"appeal:{level}")
    return LetterFacts(
        today=today,
        category=state.category,
        category_label=load_category_profiles()[state.category].label,
        level=level,
        level_name=level_rule.name,
        max_level=state.rule.max_appeal_level,
        filing_deadline=deadline.due if deadline else None,
        filing_days=level_rule.filing_days,
        decision_days=level_rule.decision_days,
        minimum_in_dispute=level_rule.minimum_in_dispute,
        previous_decision_date=state.appeal_notice_dates.get(level) if level > 1 else None,
        rule_id=state.rule.id,
        rule_source=state.rule.source,
        timely_filing_limit=state.rule.timely_filing.describe(),
        payer_name=claim.payer.name or claim.payer.payer_id,
        payer_id=claim.payer.payer_id,
        payer_type=claim.payer.type.value,
        claim_id=claim.claim_id,
        payer_claim_control_number=claim.payer_claim_control_number,
        claim_type=claim.claim_type.value,
        provider_npi=claim.provider_npi,
        patient_name=claim.patient.name,
        member_id=claim.patient.member_id,
        birth_date=claim.patient.birth_date,
        service_from=claim.service_date_from,
        service_to=claim.service_through,
        remittance_date=claim.remittance_date,
        billed=claim.billed_amount,
        paid=claim.paid_amount,
        denied=state.denied_amount,
        reasons=_reasons(state, table),
        remarks=_remarks(state, table),
        service_lines=[
            ServiceLineFacts(
                line_number=line.line_number,
                procedure=line.procedure_code,
                modifiers=",".join(line.modifiers),
                service_date=line.service_date,
                units=line.units,
                billed=line.billed_amount,
                paid=line.paid_amount,
                reasons=" ".join(adj.code for adj in line.adjustments),
            )
            for line in claim.service_lines
        ],
        enclosures=enclosures_for(state.category),
        filing_proofs=filing_proofs(state),
        attestation_required=state.category in ATTESTATION_REQUIRED,
        attestation=state.attestation,
    )


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)


def template_candidates(facts: LetterFacts) -> list[str]:
    """Template names from most to least specific."""
    category, level = facts.category.value, facts.level
    places = [f"payer/{_slug(facts.payer_id)}", facts.payer_type, "default"]
    names = [
        name
        for place in places
        for name in (f"{place}/{category}.level{level}.txt.j2", f"{place}/{category}.txt.j2")
    ]
    return [*names, "default/other.txt.j2"]


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _long_date(value: date | None) -> str:
    return f"{value:%B} {value.day}, {value.year}" if value else "unknown"


def attestation_line(attestation: Attestation) -> str:
    return (
        f"Attested by {attestation.physician_name} on "
        f"{_long_date(attestation.recorded_at.date())}: {attestation.statement}"
    )


def with_current_attestation(body: str, attestation: Attestation | None) -> str:
    """A letter saved while the attestation was pending, stating the one recorded since.

    Saved letters are text: without this, the pending line would go out with a packet whose
    physician has attested. A line the biller rewrote is left as written."""
    if attestation is None:
        return body
    return body.replace(PENDING_ATTESTATION, attestation_line(attestation))


@cache
def letter_environment() -> Environment:
    root = files("domain").joinpath("data", LETTERS_DIR)
    env = Environment(
        loader=FileSystemLoader(str(root)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # plain text letters, never served as HTML
    )
    env.filters["money"] = _money
    env.filters["long_date"] = _long_date
    env.globals["attestation_line"] = attestation_line
    env.globals["pending_attestation"] = PENDING_ATTESTATION
    return env


def render_letter(facts: LetterFacts) -> RenderedLetter:
    template = letter_environment().select_template(template_candidates(facts))
    assert template.name is not None
    body = template.render(**dict(facts), facts=facts)
    return RenderedLetter(template=template.name, body=body)


def notes_for_biller(facts: LetterFacts) -> list[str]:
    """What the biller should know and the payer must not read: where the deadlines the
    letter states come from, with the rule's own caveats ("verify per contract")."""
    return [
        f"The deadlines in the letter come from payer rule {facts.rule_id}: "
        f"{facts.rule_source.rstrip('.')}."
    ]
