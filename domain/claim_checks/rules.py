"""Rule checks on a claim before it is sent: what the payer rules registry and the reference
(shared/reference/denials-domain.md) make plain, each finding with its evidence and fix.

- timely filing passed (block: CO-29, and Medicare gives no appeal) or about to pass (warn) on
  the submission date, for original claims (a replacement's window runs from the remittance of
  the claim it replaces, which the 837 does not carry);
- a procedure the payer's rule marks as needing prior authorization, on a claim without REF*G1
  (block: it would come back CO-197);
- a replacement or void (frequency 7 / 8) without the payer's claim number in REF*F8 (block: the
  payer cannot tell which claim it replaces);
- what gets a claim rejected unprocessed (the reference's "wrong NPI, missing field"): an NPI
  failing its check digit, a total charge that is not the sum of the lines, a professional line
  pointing at no diagnosis, a service date after the submission date.
- within one batch: the same original claim twice (warn: the second comes back CO-18).

Pure: the registry and the submission date come in, findings go out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from domain.claim_checks.findings import (
    ClaimUnderCheck,
    Finding,
    FindingKind,
    LineUnderCheck,
    Severity,
)
from domain.deadlines import timely_filing_deadline
from domain.models import Claim, ClaimType, Payer, PayerType
from domain.payer_rules import PayerRuleRegistry

LAPSE_WARNING_DAYS = 14  # a claim this close to its filing limit must go out now, cleanly
# SBR09 claim filing indicator -> the payer type whose rules apply; anything else is "other",
# whose default rule has the shortest windows.
PAYER_TYPES = {
    "MA": PayerType.MEDICARE,
    "MB": PayerType.MEDICARE,
    "16": PayerType.MEDICARE_ADVANTAGE,
    "MC": PayerType.MEDICAID,
    **dict.fromkeys(("CI", "BL", "HM", "12", "13", "14", "15"), PayerType.COMMERCIAL),
}
REPLACEMENT_FREQUENCIES = {"7": "replacement", "8": "void"}


def payer_type(claim: ClaimUnderCheck) -> PayerType:
    return PAYER_TYPES.get(claim.filing_indicator.upper(), PayerType.OTHER)


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit of the rest prefixed by 80840 (the
    NPI's card issuer prefix), as CMS defines it."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 24  # the prefix 80840's contribution
    for position, digit in enumerate(reversed(npi[:9])):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10 == int(npi[9])


def _rule(
    kind: str, severity: Severity, message: str, evidence: str, fix: str, line: int | None = None
) -> Finding:
    return Finding(
        kind=FindingKind.RULE,
        severity=severity,
        code=kind,
        message=message,
        evidence=evidence,
        fix=fix,
        line_number=line,
    )


def _timely_filing(
    claim: ClaimUnderCheck, registry: PayerRuleRegistry, submitted: date, warn_days: int
) -> list[Finding]:
    if claim.frequency_code != "1" or claim.service_date_from is None:
        return []
    institutional = claim.kind == "institutional"
    as_claim = Claim(
        claim_id=claim.claim_id,
        claim_type=ClaimType.INSTITUTIONAL if institutional else ClaimType.PROFESSIONAL,
        payer=Payer(payer_id=claim.payer_id or "?", name=claim.payer_name, type=payer_type(claim)),
        service_date_from=claim.service_date_from,
        service_date_to=claim.service_date_to,
    )
    rule = registry.rule_for(claim.payer_id, payer_type(claim), claim.service_date_from)
    deadline = timely_filing_deadline(rule, as_claim)
    left = (deadline.due - submitted).days
    evidence = f"{deadline.basis}: due {deadline.due.isoformat()} (rule {rule.id}: {rule.source})"
    if left < 0:
        no_appeal = rule.no_appeal_for("29")
        after = (
            f"; {no_appeal.citation}"
            if no_appeal
            else "; it comes back CO-29, overturned only with proof of timely submission"
        )
        return [
            _rule(
                "timely_filing.passed",
                Severity.BLOCK,
                f"The timely filing limit passed {-left} day{'s' if left != -1 else ''} before "
                f"the submission date ({deadline.due.isoformat()}).",
                evidence + after,
                "Do not send as a new claim: find proof of an earlier timely submission (a 999 "
                "or 277CA acceptance) and appeal with it, or route to write-off review.",
            )
        ]
    if left <= warn_days:
        return [
            _rule(
                "timely_filing.lapsing",
                Severity.WARN,
                f"The timely filing limit is {deadline.due.isoformat()}, {left} day"
                f"{'s' if left != 1 else ''} after the submission date.",
                evidence,
                "Send today and watch for the 999/277CA acceptance: a rejection does not stop "
                "the clock, so fix any rejection the same day.",
            )
        ]
    return []


def _prior_authorization(
    claim: ClaimUnderCheck, registry: PayerRuleRegistry, submitted: date
) -> list[Finding]:
    if claim.prior_authorization:
        return []
    rule = registry.rule_for(
        claim.payer_id, payer_type(claim), claim.service_date_from or submitted
    )
    marked = set(rule.prior_authorization_codes)
    return [
        _rule(
            "prior_authorization.missing",
            Severity.BLOCK,
            f"{line.procedure_code} needs a prior authorization with this payer and the claim "
            "carries none.",
            f"Payer rule {rule.id} ({rule.source}) lists {line.procedure_code} as needing prior "
            "authorization; without REF*G1 it comes back CO-197.",
            "Add the authorization number in REF*G1 (loop 2300); if none was obtained, ask the "
            "payer for a retro-authorization before sending.",
            line.line_number,
        )
        for line in claim.lines
        if line.procedure_code in marked
    ]


def _replacement(claim: ClaimUnderCheck) -> list[Finding]:
    what = REPLACEMENT_FREQUENCIES.get(claim.frequency_code)
    if what is None or claim.original_reference:
        return []
    return [
        _rule(
            "frequency.original_reference_missing",
            Severity.BLOCK,
            f"A {what} claim (frequency code {claim.frequency_code}) without the payer's claim "
            "number of the claim it changes.",
            "CLM05-3 is "
            f"{claim.frequency_code} but there is no REF*F8: the payer cannot match it to the "
            "original and rejects or denies it as a duplicate.",
            "Add REF*F8 with the payer claim control number (CLP07 of the original's 835), or "
            "send it as an original (frequency 1) if the payer never adjudicated the claim.",
        )
    ]


def _unprocessable(claim: ClaimUnderCheck, submitted: date) -> list[Finding]:
    found = []
    for role, npi in (("billing", claim.billing_npi), ("rendering", claim.rendering_npi)):
        if (npi or role == "billing") and not npi_is_valid(npi):
            found.append(
                _rule(
                    "npi.invalid",
                    Severity.BLOCK,
                    f"The {role} provider's NPI '{npi}' is not a valid NPI."
                    if npi
                    else "The claim names no billing provider NPI.",
                    "An NPI is ten digits ending in its check digit (Luhn over 80840 and the "
                    "first nine); the payer rejects the claim unprocessed.",
                    f"Correct the {role} NPI (NM109 of NM1*{'85' if role == 'billing' else '82'}) "
                    "from NPPES.",
                )
            )
    lines_total = sum((line.charge for line in claim.lines), Decimal(0))
    if lines_total != claim.total_charge:
        found.append(
            _rule(
                "charges.total_mismatch",
                Severity.BLOCK,
                f"The claim's total charge {claim.total_charge} is not the sum of its lines "
                f"({lines_total}).",
                "CLM02 must equal the sum of the line charges; the clearinghouse rejects it.",
                "Recompute CLM02 from the lines, or correct the line charge that is wrong.",
            )
        )
    for line in claim.lines:
        found += _line_problems(claim, line, submitted)
    return found


def _line_problems(claim: ClaimUnderCheck, line: LineUnderCheck, submitted: date) -> list[Finding]:
    found = []
    if claim.kind == "professional" and not line.diagnosis_codes:
        found.append(
            _rule(
                "line.no_diagnosis",
                Severity.BLOCK,
                f"Line {line.line_number} ({line.procedure_code}) points at no diagnosis.",
                "SV107 is empty: the payer cannot tie the service to a reason (CO-16).",
                "Point the line at the diagnosis it treats (SV107, 1-4 of the claim's HI codes).",
                line.line_number,
            )
        )
    served = line.service_date or claim.service_date_from
    if served is not None and served > submitted:
        found.append(
            _rule(
                "service_date.future",
                Severity.BLOCK,
                f"Line {line.line_number} is dated {served.isoformat()}, after the submission "
                f"date {submitted.isoformat()}.",
                "A claim may bill only services already rendered.",
                "Correct the date of service, or hold the claim until the service is rendered.",
                line.line_number,
            )
        )
    return found


def rule_findings(
    claim: ClaimUnderCheck,
    registry: PayerRuleRegistry,
    submitted: date,
    warn_days: int = LAPSE_WARNING_DAYS,
) -> list[Finding]:
    """Every rule finding for `claim` if it is sent on `submitted`."""
    return [
        *_timely_filing(claim, registry, submitted, warn_days),
        *_prior_authorization(claim, registry, submitted),
        *_replacement(claim),
        *_unprocessable(claim, submitted),
    ]


def duplicate_findings(
    claims: Sequence[ClaimUnderCheck], seen: Counter[tuple[str, str, str]] | None = None
) -> dict[int, list[Finding]]:
    """Original claims sent twice in one batch (same patient control number, payer and
    charges), by position in `claims` of every copy after the first. `seen` carries the
    originals of earlier chunks of the same file (updated here)."""
    seen = Counter() if seen is None else seen
    found: dict[int, list[Finding]] = {}
    for index, claim in enumerate(claims):
        if claim.frequency_code != "1":
            continue
        key = (claim.claim_id, claim.payer_id, str(claim.total_charge))
        seen[key] += 1
        if seen[key] > 1:
            found[index] = [
                _rule(
                    "duplicate.in_batch",
                    Severity.WARN,
                    "The same original claim appears earlier in this batch.",
                    "Same patient control number, payer and total charge as an earlier claim "
                    "of the batch: the second copy comes back CO-18 (duplicate).",
                    "Remove the copy, or send it as a replacement (frequency 7 with REF*F8) if "
                    "it corrects the first.",
                )
            ]
    return found
