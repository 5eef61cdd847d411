"""Claim, payer and adjustment models shared by every layer.

These are plain pydantic models: the workflow, the activities, the read model and the X12 parser
all speak them, so a denial looks the same wherever it travels.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The longest free text a person types into a case: a note, a reason, a statement.
MAX_NOTE_CHARS = 4000


class PayerType(StrEnum):
    MEDICARE = "medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    OTHER = "other"


class DenialKind(StrEnum):
    """Denial: adjudicated and refused (835). Rejection: never entered adjudication (277CA, 999).
    Reversal (CLP02 = 22) and recoupment (PLB): "silent denials" taking back money paid."""

    DENIAL = "denial"
    REJECTION = "rejection"
    REVERSAL = "reversal"
    RECOUPMENT = "recoupment"


class ClaimType(StrEnum):
    """Timely filing counts from the from-date (professional) or through-date (institutional)."""

    PROFESSIONAL = "professional"
    INSTITUTIONAL = "institutional"


class GroupCode(StrEnum):
    CO = "CO"
    PR = "PR"
    OA = "OA"
    PI = "PI"
    CR = "CR"


class Category(StrEnum):
    ELIGIBILITY = "eligibility"
    COORDINATION_OF_BENEFITS = "coordination_of_benefits"
    AUTHORIZATION = "authorization"
    MEDICAL_NECESSITY = "medical_necessity"
    CODING = "coding"
    MISSING_INFORMATION = "missing_information"
    DUPLICATE = "duplicate"
    TIMELY_FILING = "timely_filing"
    NON_COVERED = "non_covered"
    BUNDLING = "bundling"
    CAPITATION = "capitation"
    PRICING = "pricing"
    OTHER = "other"
    # Rejections (277CA / 999) never reach a CARC; they are one category of their own, and so
    # are payments taken back (reversals, PLB recoupments).
    REJECTION = "rejection"
    PAYMENT_REVERSAL = "payment_reversal"


class DenialClass(StrEnum):
    SOFT = "soft"
    HARD = "hard"


class WorkPath(StrEnum):
    """The ways a case can be worked once triaged."""

    CORRECTED_CLAIM = "corrected_claim"
    APPEAL = "appeal"
    WRITE_OFF_REVIEW = "write_off_review"
    TRANSFER_TO_PATIENT = "transfer_to_patient"
    DUPLICATE_CHECK = "duplicate_check"


Money = Decimal


class Adjustment(BaseModel):
    """One CAS adjustment: group code, reason code (CARC) and amount."""

    model_config = ConfigDict(frozen=True)

    group: GroupCode
    carc: str = Field(min_length=1, max_length=5)
    amount: Money

    @field_validator("carc")
    @classmethod
    def _normalise_carc(cls, value: str) -> str:
        return value.strip().upper()

    @property
    def code(self) -> str:
        return f"{self.group.value}-{self.carc}"


class ServiceLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int = Field(ge=1)
    procedure_code: str = ""
    modifiers: list[str] = Field(default_factory=list)
    service_date: date | None = None
    billed_amount: Money = Money(0)
    paid_amount: Money = Money(0)
    units: Decimal = Decimal(1)
    adjustments: list[Adjustment] = Field(default_factory=list)
    rarcs: list[str] = Field(default_factory=list)
    # Added later, so optional: cases opened before them read as "not reported".
    revenue_code: str = Field(default="", max_length=48, description="UB-04 revenue code")
    control_number: str = Field(
        default="", max_length=80, description="835 REF*6R: the provider's line item control number"
    )
    allowed_amount: Money | None = Field(default=None, description="835 AMT*B6 allowed amount")
    submitted_procedure_code: str = Field(
        default="",
        max_length=48,
        description="835 SVC06: the code as billed, when the payer adjudicated another one",
    )
    submitted_modifiers: list[str] = Field(default_factory=list)
    submitted_units: Decimal | None = Field(
        default=None, description="835 SVC07: the units billed, when the payer paid others"
    )
    diagnosis_pointers: list[int] = Field(
        default_factory=list,
        description="Which of the claim's diagnosis codes (1-based) the line points to; set on "
        "a corrected claim (837 SV107), empty: the first four",
    )


class Payer(BaseModel):
    model_config = ConfigDict(frozen=True)

    payer_id: str = Field(min_length=1, max_length=80)
    name: str = ""
    type: PayerType = PayerType.OTHER


class Patient(BaseModel):
    """Who the claim is for. PHI: kept in the database and workflow payloads only."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(default="", max_length=200)
    member_id: str = Field(default="", max_length=80)
    birth_date: date | None = None


class Claim(BaseModel):
    """The denied or rejected claim as the payer reported it.

    `claim_id` is the provider's patient control number (CLP01); `payer_claim_control_number`
    is the payer's own number for the claim (CLP07). Both identify an account, so they stay in
    the database and the workflow payload, never in workflow ids or logs.
    """

    model_config = ConfigDict(frozen=True)

    claim_id: str = Field(min_length=1, max_length=80)
    payer_claim_control_number: str = Field(default="", max_length=80)
    claim_status: str = Field(default="", max_length=4, description="CLP02 claim status code")
    claim_type: ClaimType = ClaimType.PROFESSIONAL
    frequency_code: str = Field(default="1", max_length=1)
    payer: Payer
    patient: Patient = Field(default_factory=Patient)
    provider_npi: str = Field(default="", max_length=10)
    service_date_from: date
    service_date_to: date | None = None
    billed_amount: Money = Money(0)
    paid_amount: Money = Money(0)
    adjustments: list[Adjustment] = Field(default_factory=list)
    rarcs: list[str] = Field(default_factory=list)
    service_lines: list[ServiceLine] = Field(default_factory=list)
    remittance_date: date | None = Field(
        default=None, description="Date of the 835 (or 277CA / 999) that reported the denial"
    )
    remittance_trace: str = Field(
        default="", max_length=80, description="835 TRN02: the check or EFT trace number"
    )
    payment_method: str = Field(
        default="",
        max_length=3,
        description="835 BPR04: CHK check, ACH (an EFT), BOP, FWT (wire), NON (no payment)",
    )

    @property
    def service_through(self) -> date:
        return self.service_date_to or self.service_date_from

    def all_adjustments(self) -> list[Adjustment]:
        lines = [adj for line in self.service_lines for adj in line.adjustments]
        return [*self.adjustments, *lines]

    def all_rarcs(self) -> list[str]:
        codes = [*self.rarcs, *(code for line in self.service_lines for code in line.rarcs)]
        return list(dict.fromkeys(code.strip().upper() for code in codes if code.strip()))


# A 999 names no date of service: its date stands in, which is later than the real one.
SERVICE_DATE_UNKNOWN = (
    "service date unknown: timely filing counted from the acknowledgment date until the 837 "
    "is linked"
)


class DenialRecord(BaseModel):
    """What opens a case: a claim plus the kind of problem and, for rejections, their reasons."""

    model_config = ConfigDict(frozen=True)

    kind: DenialKind = DenialKind.DENIAL
    claim: Claim
    sequence: int = Field(
        default=1,
        ge=1,
        description="Distinguishes repeated denials of one claim (e.g. a re-denial)",
    )
    details: list[str] = Field(
        default_factory=list,
        description="What the payer reported beyond CARCs: 277CA STC or 999 IK3/IK4 detail for "
        "a rejection, the PLB reason for a recoupment",
    )
    source: str = Field(default="api", max_length=200, description="Where the record came from")
    distinguisher: str = Field(
        default="",
        max_length=200,
        description="Set when the payer reported another claim under the same claim number "
        "(masked or reused CLP07): what tells this claim apart, so that each has a case",
    )

    identified_by: str = Field(
        default="",
        max_length=40,
        description="Who supplied what the file left unknown (payer, date of service): "
        "'claim record', a later file, or the user who set it; empty when the file named them",
    )

    @property
    def identity_from_file(self) -> bool:
        """The file named the claim's payer and date of service: they are the record."""
        return not self.identified_by and self.payer_named and self.service_date_known

    @property
    def service_date_known(self) -> bool:
        return SERVICE_DATE_UNKNOWN not in self.details

    @property
    def payer_named(self) -> bool:
        """A file that names no payer (a 999 names only its sender, a clearinghouse) leaves the
        payer to be identified from the claim record or by the biller."""
        return bool(self.claim.payer.name.strip())
