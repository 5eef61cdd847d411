"""Corrected claims: what the biller changed, and the replacement (or void) claim it makes.

Frequency code 7 replaces the claim the payer adjudicated, 8 voids it (NUBC claim frequency
codes, CLM05-3); both must name the payer's claim control number (837 REF*F8). A rejected claim
never entered adjudication, so it is sent again as an original (frequency 1). A 277CA or 999
often names no service line: the biller then gives the claim's lines as billed, and a
claim-level fix (the billing provider's NPI) goes out on them.

`correction_problems` lists everything wrong at once, each tied to the field it is about, so a
form can show every error beside its field; the case workflow's Update validator refuses with
the same list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.models import Claim, ClaimType, DenialKind, ServiceLine
from domain.npi import npi_problem

_DIAGNOSIS = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")  # ICD-10-CM without the dot
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
MAX_DIAGNOSES = 12  # 837P HI: up to 12 diagnosis codes
MAX_POINTERS = 4  # 837P SV107: up to 4 diagnosis code pointers per line
Pointer = Annotated[int, Field(ge=1, le=MAX_DIAGNOSES)]


class Frequency(StrEnum):
    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class LineCorrection(BaseModel):
    """Changes to one service line; fields left out keep the line's value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_number: int = Field(ge=1)
    procedure_code: str | None = Field(default=None, pattern=r"^[A-Z0-9]{5}$")
    modifiers: list[str] | None = Field(default=None, max_length=4)
    units: Decimal | None = Field(default=None, gt=0, le=9999)
    service_date: date | None = None
    billed_amount: Decimal | None = Field(default=None, ge=0)
    revenue_code: str | None = Field(
        default=None, pattern=r"^[0-9]{4}$", description="Institutional claims: the line's UB-04"
    )
    diagnosis_pointers: list[Pointer] | None = Field(
        default=None,
        max_length=MAX_POINTERS,
        description="Which diagnosis codes (1-based, in the order given) the line is for",
    )

    @field_validator("modifiers")
    @classmethod
    def _modifiers(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [m.strip().upper() for m in value if m.strip()]
        bad = [m for m in cleaned if not _MODIFIER.match(m)]
        if bad:
            raise ValueError(f"modifiers are two letters or digits, not {', '.join(bad)}")
        return cleaned


class ClaimCorrections(BaseModel):
    """The structured corrections behind a replacement claim (the 837 is built from these)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    frequency: Frequency | None = Field(
        default=None, description="Unset: 1 for a rejected claim, 7 (replace) for a denied one"
    )
    diagnosis_codes: list[str] = Field(min_length=1, max_length=MAX_DIAGNOSES)
    lines: list[LineCorrection] = Field(default_factory=list)
    billing_provider_npi: str | None = Field(
        default=None,
        description="The billing provider's NPI (837 loop 2010AA) when the claim's was wrong; "
        "unset keeps the claim's",
    )

    @field_validator("billing_provider_npi")
    @classmethod
    def _npi(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        problem = npi_problem(value)
        if problem:
            raise ValueError(f"the billing provider NPI {problem}")
        return value

    @field_validator("diagnosis_codes")
    @classmethod
    def _diagnoses(cls, value: list[str]) -> list[str]:
        cleaned = [code.strip().upper().replace(".", "") for code in value if code.strip()]
        bad = [code for code in cleaned if not _DIAGNOSIS.match(code)]
        if bad:
            raise ValueError(f"not ICD-10-CM diagnosis codes: {', '.join(bad)}")
        if not cleaned:
            raise ValueError("at least one diagnosis code")
        return cleaned


def frequency_for(kind: DenialKind, corrections: ClaimCorrections) -> Frequency:
    if corrections.frequency is not None:
        return corrections.frequency
    return Frequency.ORIGINAL if kind is DenialKind.REJECTION else Frequency.REPLACEMENT


@dataclass(frozen=True)
class CorrectionProblem:
    """What is wrong, and with which field: "" (the claim as a whole), "frequency",
    "billing_provider_npi", "diagnosis_codes" or "lines.<line number>.<LineCorrection field>"."""

    field: str
    message: str

    @property
    def line_number(self) -> int | None:
        parts = self.field.split(".")
        return int(parts[1]) if parts[0] == "lines" and len(parts) > 1 else None

    def __str__(self) -> str:
        number = self.line_number
        return f"line {number}: {self.message}" if number is not None else self.message


def correction_problems(
    claim: Claim,
    corrections: ClaimCorrections,
    kind: DenialKind = DenialKind.DENIAL,
    today: date | None = None,
) -> list[CorrectionProblem]:
    """Everything that keeps these corrections from making a claim fit to send, at once."""
    problems = _claim_level_problems(claim, corrections, kind)
    numbers = {line.line_number for line in claim.service_lines}
    if claim.service_lines:
        unknown = sorted({c.line_number for c in corrections.lines} - numbers)
        if unknown:
            problems.append(
                CorrectionProblem(
                    "", f"corrections name service lines {unknown} that the claim does not have"
                )
            )
            return problems
    elif not corrections.lines:
        problems.append(
            CorrectionProblem(
                "lines",
                "the file that reported the claim listed no service lines: give the claim's "
                "lines as they were billed",
            )
        )
        return problems
    given = [c.line_number for c in corrections.lines]
    if len(set(given)) != len(given):
        problems.append(CorrectionProblem("", "corrections name a service line twice"))
        return problems
    by_number = {c.line_number: c for c in corrections.lines}
    count = len(corrections.diagnosis_codes)
    for line in _resulting_lines(claim, corrections):
        change = by_number.get(line.line_number)
        problems.extend(_line_problems(claim, line, change, count, today))
    return problems


def corrections_problem(
    claim: Claim,
    corrections: ClaimCorrections,
    kind: DenialKind = DenialKind.DENIAL,
    today: date | None = None,
) -> str | None:
    """Why these corrections cannot make a replacement of `claim` (every reason), or None."""
    problems = correction_problems(claim, corrections, kind, today)
    return "; ".join(str(problem) for problem in problems) or None


def _claim_level_problems(
    claim: Claim, corrections: ClaimCorrections, kind: DenialKind
) -> list[CorrectionProblem]:
    problems = []
    frequency = frequency_for(kind, corrections)
    if kind is DenialKind.REJECTION and frequency is not Frequency.ORIGINAL:
        problems.append(
            CorrectionProblem(
                "frequency",
                "a rejected claim was never adjudicated: send it again with frequency 1, not 7 "
                "or 8",
            )
        )
    elif kind is not DenialKind.REJECTION and frequency is Frequency.ORIGINAL:
        problems.append(
            CorrectionProblem(
                "frequency",
                "an adjudicated claim is corrected with frequency 7 (replace) or 8 (void), not 1",
            )
        )
    elif frequency is not Frequency.ORIGINAL and not claim.payer_claim_control_number:
        problems.append(
            CorrectionProblem(
                "",
                "a replacement or void claim must name the payer's claim control number, and "
                "the remittance gave none",
            )
        )
    if corrections.billing_provider_npi is None:  # a corrected one was checked by the model
        problem = npi_problem(claim.provider_npi)
        if problem:
            problems.append(
                CorrectionProblem(
                    "billing_provider_npi",
                    f"the claim's billing provider NPI {problem}: give the right one",
                )
            )
    return problems


def _line_problems(
    claim: Claim,
    line: ServiceLine,
    change: LineCorrection | None,
    diagnoses: int,
    today: date | None,
) -> list[CorrectionProblem]:
    """What the line as it would be sent lacks (a new line must give its code and charge)."""
    key = f"lines.{line.line_number}."
    problems = []
    if not line.procedure_code:
        problems.append(CorrectionProblem(key + "procedure_code", "the procedure code is missing"))
    if line.units <= 0:
        problems.append(
            CorrectionProblem(key + "units", f"{line.units} units: give the units billed")
        )
    if not claim.service_lines and not (change and change.billed_amount):
        problems.append(CorrectionProblem(key + "billed_amount", "the line's charge is missing"))
    if claim.claim_type is ClaimType.INSTITUTIONAL and not line.revenue_code:
        problems.append(
            CorrectionProblem(
                key + "revenue_code", "an institutional claim needs the line's revenue code"
            )
        )
    beyond = [p for p in line.diagnosis_pointers if p > diagnoses]
    if beyond:
        problems.append(
            CorrectionProblem(
                key + "diagnosis_pointers",
                f"diagnosis pointer {', '.join(map(str, beyond))} points past the {diagnoses} "
                f"diagnosis code{'s' if diagnoses != 1 else ''} given",
            )
        )
    served = change.service_date if change else None
    if today is not None and served is not None and served > today:
        problems.append(CorrectionProblem(key + "service_date", f"{served} is in the future"))
    return problems


def _resulting_lines(claim: Claim, corrections: ClaimCorrections) -> list[ServiceLine]:
    """The service lines as they would be sent: the claim's, changed; or, for a claim whose file
    named none, the lines the biller gave."""
    by_number = {c.line_number: c for c in corrections.lines}
    sent = {"adjustments": [], "paid_amount": Decimal(0), "allowed_amount": None, "rarcs": []}
    if not claim.service_lines:
        return [
            ServiceLine(
                line_number=c.line_number,
                procedure_code=c.procedure_code or "",
                modifiers=c.modifiers or [],
                units=c.units or Decimal(1),
                service_date=c.service_date or claim.service_date_from,
                billed_amount=c.billed_amount or Decimal(0),
                revenue_code=c.revenue_code or "",
                diagnosis_pointers=c.diagnosis_pointers or [],
            )
            for c in sorted(corrections.lines, key=lambda c: c.line_number)
        ]
    lines = []
    for line in claim.service_lines:
        change = by_number.get(line.line_number)
        if change is None:
            lines.append(line.model_copy(update=sent))
            continue
        updates = {
            name: value
            for name, value in (
                ("procedure_code", change.procedure_code),
                ("modifiers", change.modifiers),
                ("units", change.units),
                ("service_date", change.service_date),
                ("billed_amount", change.billed_amount),
                ("revenue_code", change.revenue_code),
                ("diagnosis_pointers", change.diagnosis_pointers),
            )
            if value is not None
        }
        lines.append(line.model_copy(update={**updates, **sent}))
    return lines


def replacement_claim(
    claim: Claim, corrections: ClaimCorrections, kind: DenialKind = DenialKind.DENIAL
) -> Claim:
    """The claim as it is sent again: corrected lines, new total, frequency 1, 7 or 8, and the
    corrected billing provider."""
    lines = _resulting_lines(claim, corrections)
    dates = [line.service_date for line in lines if line.service_date is not None]
    return claim.model_copy(
        update={
            "frequency_code": frequency_for(kind, corrections).value,
            "provider_npi": corrections.billing_provider_npi or claim.provider_npi,
            "service_lines": lines,
            "billed_amount": sum((line.billed_amount for line in lines), Decimal(0)),
            "paid_amount": Decimal(0),
            "adjustments": [],
            "rarcs": [],
            "service_date_from": min(dates) if dates else claim.service_date_from,
            "service_date_to": max(dates) if dates else claim.service_date_to,
        }
    )


def revenue_codes(corrections: ClaimCorrections) -> dict[int, str]:
    return {c.line_number: c.revenue_code for c in corrections.lines if c.revenue_code}
