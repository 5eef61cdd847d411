"""What the model reads of a claim line: the payer, code, modifiers, place of service,
diagnosis, rendering provider, units and charge, and the pairs that carry payer behaviour
(payer x code, code x modifiers, payer x provider ...), target-encoded by scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.claim_risk.history import HistoryLine

# Low-cardinality columns the gradient boosting splits on natively.
CATEGORICAL = ("payer", "procedure", "place")
# High-cardinality columns and pairs: replaced by their (cross-fitted) denial rate.
ENCODED = (
    "provider",
    "diagnosis",
    "payer|procedure",
    "procedure|modifiers",
    "payer|procedure|modifiers",
    "payer|provider",
    "payer|procedure|diagnosis",
    "payer|procedure|auth",
    "payer|procedure|units",
)
NUMERIC = ("units", "charge", "auth", "codes")


def modifier_key(modifiers: Sequence[str]) -> str:
    return "+".join(sorted(modifiers)) or "-"


def units_key(units: float) -> str:
    return str(min(int(units), 12))


def text_columns(lines: Sequence[HistoryLine]) -> dict[str, list[str]]:
    """The categorical and encoded columns, one string per line."""
    payer = [line.payer_id for line in lines]
    code = [line.procedure_code for line in lines]
    mods = [modifier_key(line.modifiers) for line in lines]
    npi = [line.rendering_npi for line in lines]
    dx = [line.diagnosis for line in lines]
    auth = ["A" if line.prior_authorization else "N" for line in lines]
    units = [units_key(line.units) for line in lines]
    pp = [f"{p}|{c}" for p, c in zip(payer, code, strict=True)]
    return {
        "payer": payer,
        "procedure": code,
        "place": [line.place_of_service for line in lines],
        "provider": npi,
        "diagnosis": dx,
        "payer|procedure": pp,
        "procedure|modifiers": [f"{c}|{m}" for c, m in zip(code, mods, strict=True)],
        "payer|procedure|modifiers": [f"{k}|{m}" for k, m in zip(pp, mods, strict=True)],
        "payer|provider": [f"{p}|{n}" for p, n in zip(payer, npi, strict=True)],
        "payer|procedure|diagnosis": [f"{k}|{d}" for k, d in zip(pp, dx, strict=True)],
        "payer|procedure|auth": [f"{k}|{a}" for k, a in zip(pp, auth, strict=True)],
        "payer|procedure|units": [f"{k}|{u}" for k, u in zip(pp, units, strict=True)],
    }


def numeric_columns(lines: Sequence[HistoryLine]) -> np.ndarray:
    return np.array(
        [
            (line.units, line.charge, float(line.prior_authorization), len(line.claim_codes))
            for line in lines
        ],
        dtype=np.float64,
    ).reshape(len(lines), len(NUMERIC))
