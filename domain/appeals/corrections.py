"""Corrected claims: what the biller changed, and the replacement (or void) claim it makes.

Frequency code 7 replaces the claim the payer adjudicated, 8 voids it (NUBC claim frequency
codes, CLM05-3); both must name the payer's claim control number (837 REF*F8). A rejected claim
never entered adjudication, so it is sent again as an original (frequency 1).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.models import Claim, ClaimType, DenialKind

_DIAGNOSIS = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")  # ICD-10-CM without the dot
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")


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
    diagnosis_codes: list[str] = Field(min_length=1, max_length=12)
    lines: list[LineCorrection] = Field(default_factory=list)

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


def corrections_problem(
    claim: Claim, corrections: ClaimCorrections, kind: DenialKind = DenialKind.DENIAL
) -> str | None:
    """Why these corrections cannot make a replacement of `claim`, or None."""
    frequency = frequency_for(kind, corrections)
    if kind is DenialKind.REJECTION and frequency is not Frequency.ORIGINAL:
        return "a rejected claim was never adjudicated: send it again with frequency 1, not 7 or 8"
    if kind is not DenialKind.REJECTION and frequency is Frequency.ORIGINAL:
        return "an adjudicated claim is corrected with frequency 7 (replace) or 8 (void), not 1"
    if frequency is not Frequency.ORIGINAL and not claim.payer_claim_control_number:
        return (
            "a replacement or void claim must name the payer's claim control number, and the "
            "remittance gave none"
        )
    numbers = {line.line_number for line in claim.service_lines}
    unknown = sorted({c.line_number for c in corrections.lines} - numbers)
    if unknown:
        return f"corrections name service lines {unknown} that the claim does not have"
    if not claim.service_lines:
        return "the claim has no service lines to resubmit"
    if claim.claim_type is ClaimType.INSTITUTIONAL:
        by_number = {c.line_number: c for c in corrections.lines}
        missing = [
            line.line_number
            for line in claim.service_lines
            if not (by_number.get(line.line_number) and by_number[line.line_number].revenue_code)
        ]
        if missing:
            return f"an institutional claim needs a revenue code on lines {missing}"
    return None


def replacement_claim(
    claim: Claim, corrections: ClaimCorrections, kind: DenialKind = DenialKind.DENIAL
) -> Claim:
    """The claim as it is sent again: corrected lines, new total, frequency 1, 7 or 8."""
    by_number = {c.line_number: c for c in corrections.lines}
    lines = []
    for line in claim.service_lines:
        change = by_number.get(line.line_number)
        if change is None:
            lines.append(line.model_copy(update={"adjustments": [], "paid_amount": Decimal(0)}))
            continue
        updates = {
            name: value
            for name, value in (
                ("procedure_code", change.procedure_code),
                ("modifiers", change.modifiers),
                ("units", change.units),
                ("service_date", change.service_date),
                ("billed_amount", change.billed_amount),
            )
            if value is not None
        }
        lines.append(
            line.model_copy(update={**updates, "adjustments": [], "paid_amount": Decimal(0)})
        )
    dates = [line.service_date for line in lines if line.service_date is not None]
    return claim.model_copy(
        update={
            "frequency_code": frequency_for(kind, corrections).value,
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
