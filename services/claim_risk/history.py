"""One adjudicated claim line as the risk model learns from it: what was billed and whether the
payer denied it (with the CARC, group-prefixed like "CO-4")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.claim_checks.findings import ClaimUnderCheck


@dataclass(frozen=True, slots=True)
class HistoryLine:
    claim_key: str  # groups the lines of one claim (bundling); never shown or logged
    service_date: date
    payer_id: str
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    place_of_service: str = ""
    diagnosis: str = ""  # the first diagnosis the line points at
    rendering_npi: str = ""
    units: float = 1.0
    charge: float = 0.0
    prior_authorization: bool = False
    claim_codes: tuple[str, ...] = ()  # every procedure code on the claim, this line's included
    denied: bool = False
    carc: str = ""  # "CO-4": the first adjustment of a denied line
    payer_name: str = ""


MIN_LINES = 200  # fewer lines than this: nothing to learn from


class NotEnoughHistory(ValueError):
    """Too little (or one-sided) history to learn from."""


def lines_of(claim: ClaimUnderCheck) -> list[HistoryLine]:
    """A claim under check as the lines the model scores (not yet adjudicated)."""
    codes = tuple(line.procedure_code for line in claim.lines)
    return [
        HistoryLine(
            claim_key="",
            service_date=line.service_date or claim.service_date_from or date.min,
            payer_id=claim.payer_id,
            payer_name=claim.payer_name,
            procedure_code=line.procedure_code,
            modifiers=line.modifiers,
            place_of_service=line.place_of_service or claim.place_of_service,
            diagnosis=(line.diagnosis_codes or claim.diagnosis_codes or ("",))[0],
            rendering_npi=line.rendering_npi or claim.rendering_npi or claim.billing_npi,
            units=float(line.units),
            charge=float(line.charge),
            prior_authorization=bool(claim.prior_authorization),
            claim_codes=codes,
        )
        for line in claim.lines
    ]
