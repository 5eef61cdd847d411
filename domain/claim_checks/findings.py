"""The claim a pre-submission check reads and the findings it returns.

Three kinds of finding share one shape so the CLI, the API, the page and the biller's task show
them alike: a learned risk (a denial probability from this organisation's history, with the
factors behind it), a prevention edit (a condition written on the prevention board), and a rule
check (payer rules registry: timely filing, prior authorization, replacement claims)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    BLOCK = "block"  # the claim must not go out as it is
    WARN = "warn"  # likely denied: look before sending
    INFO = "info"


class FindingKind(StrEnum):
    LEARNED_RISK = "learned_risk"
    PREVENTION_EDIT = "prevention_edit"
    RULE = "rule"


class LineUnderCheck(BaseModel):
    """One service line (SV1 for 837P, SV2 for 837I) as the check sees it."""

    model_config = ConfigDict(frozen=True)

    line_number: int = Field(ge=1)
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    units: Decimal = Decimal(1)
    charge: Decimal = Decimal(0)
    service_date: date | None = None
    revenue_code: str = ""
    place_of_service: str = ""
    diagnosis_codes: tuple[str, ...] = ()  # the claim's codes this line points at
    rendering_npi: str = ""


class ClaimUnderCheck(BaseModel):
    """One claim (CLM loop) of an 837P/837I, or a corrected claim the product built."""

    model_config = ConfigDict(frozen=True)

    claim_id: str  # CLM01, the patient control number: PHI-adjacent, never in logs or URLs
    kind: str = "professional"  # "professional" (837P) or "institutional" (837I)
    payer_id: str
    payer_name: str = ""
    filing_indicator: str = ""  # SBR09 (MB/MA Medicare, 16 Medicare Advantage, MC Medicaid, CI ...)
    billing_npi: str = ""
    rendering_npi: str = ""
    place_of_service: str = ""
    frequency_code: str = "1"  # CLM05-3: 1 original, 7 replacement, 8 void
    original_reference: str = ""  # REF*F8, the payer's claim number a replacement names
    prior_authorization: str = ""  # REF*G1
    diagnosis_codes: tuple[str, ...] = ()
    total_charge: Decimal = Decimal(0)
    service_date_from: date | None = None
    service_date_to: date | None = None
    lines: tuple[LineUnderCheck, ...] = ()


class Finding(BaseModel):
    """One thing the check found, in the biller's words: what, why (evidence) and the fix."""

    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    severity: Severity
    code: str  # stable id of what fired: a rule name, an edit's id@version, or the model version
    message: str  # what is wrong, one sentence
    evidence: str  # why we think so (counts, the rule's source, the driving factors)
    fix: str  # what to change before sending
    line_number: int | None = None  # None: the whole claim
    probability: float | None = Field(default=None, ge=0, le=1)  # learned risk only


class ClaimCheckResult(BaseModel):
    """Every finding for one claim; `blocked` when any finding blocks."""

    model_config = ConfigDict(frozen=True)

    claim_id: str
    payer_id: str
    line_count: int
    denial_probability: float | None = None  # the claim's learned risk, when a model is active
    model_version: str | None = None  # which model scored it
    findings: tuple[Finding, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(finding.severity is Severity.BLOCK for finding in self.findings)
