"""One adjudicated claim line as the risk model learns from it: what was billed and whether the
payer denied it (with the CARC, group-prefixed like "CO-4")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
