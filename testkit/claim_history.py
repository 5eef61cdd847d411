"""A synthetic year of adjudicated claim lines with planted payer behaviours, for the learned
risk's tests and benchmark (bench/claim_risk.py).

Six behaviours are planted, each denying most (not all: payers are inconsistent) of the lines
it applies to, over a background of random denials with everyday CARCs, so the initial denial
rate lands between 8 and 12%. Deterministic by seed. `History.planted[i]` names the behaviour
that denied line i ("" when none did): the ground truth the benchmark measures recall on."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from services.claim_risk.history import HistoryLine

PAYERS = ["AETNA", "BCBS", "CIGNA", "HUMANA", "MCR", "MCD", "UHC", "WELLCARE"]
PAYER_NAMES = {
    "AETNA": "Aetna",
    "BCBS": "Blue Cross",
    "CIGNA": "Cigna",
    "HUMANA": "Humana",
    "MCR": "Medicare",
    "MCD": "Medicaid",
    "UHC": "UnitedHealthcare",
    "WELLCARE": "WellCare",
}
# Codes by how often they are billed (weights), with their usual charge.
PROCEDURES: dict[str, tuple[int, float]] = {
    "99213": (30, 110.0),
    "99214": (22, 165.0),
    "99203": (8, 150.0),
    "99204": (5, 230.0),
    "36415": (14, 12.0),
    "80053": (8, 35.0),
    "80061": (6, 40.0),
    "85025": (9, 25.0),
    "93000": (6, 45.0),
    "97110": (10, 60.0),
    "97140": (6, 55.0),
    "97530": (6, 65.0),
    "97112": (4, 58.0),
    "72148": (4, 900.0),
    "70551": (3, 850.0),
    "71046": (5, 80.0),
    "73721": (2, 780.0),
    "20610": (3, 140.0),
    "11721": (3, 70.0),
    "90471": (4, 28.0),
    "90686": (4, 32.0),
    "G0439": (3, 175.0),
    "96372": (4, 35.0),
    "J1100": (2, 9.0),
    "81002": (4, 8.0),
}
DIAGNOSES = [
    "I10", "E11.9", "E78.5", "M54.5", "M25.561", "J06.9", "Z00.00", "Z23", "R07.9",
    "I48.91", "M79.1", "N39.0", "K21.9", "F41.1", "R51.9", "S83.241A", "G47.33", "E66.9",
]  # fmt: skip
CARDIAC = {"I10", "I48.91", "R07.9"}
THERAPY = {"97110", "97140", "97530", "97112"}
CHANCE_CARCS = ["CO-18", "PR-1", "CO-29", "CO-22", "CO-27", "PR-2"]
TELEHEALTH_PAYERS = {"MCD", "WELLCARE"}

# The planted behaviours: (name, payer, what it looks at).
CREDENTIALING_GAP_NPI = "1467500007"
BEHAVIOURS = {
    "modifier": "UHC denies 97110 without modifier GP (CO-4)",
    "prior_auth": "AETNA denies 72148 and 70551 without a prior authorization (CO-197)",
    "diagnosis": "CIGNA denies 93000 unless the diagnosis is cardiac (CO-11)",
    "credentialing": f"HUMANA denies every line of rendering NPI {CREDENTIALING_GAP_NPI} (CO-B7)",
    "units": "MCD denies 97530 billed with more than 4 units (CO-151)",
    "bundling": "BCBS denies 36415 billed with 99213 or 99214 on the claim (CO-97)",
}

# How the model's first factor for a line of each behaviour may start, and its usual CARC: the
# explanation names the behaviour with the history's counts between the two.
EVIDENCE: dict[str, tuple[tuple[str, ...], str]] = {
    "modifier": (("UnitedHealthcare denied 97110 without modifier GP in ",), "mostly CO-4"),
    "prior_auth": (
        ("Aetna denied 72148 without a prior authorization in ", "Aetna denied 70551 without"),
        "mostly CO-197",
    ),
    # The diagnoses it is denied with together, or (with enough lines) one of them.
    "diagnosis": (
        ("Cigna denied 93000 with a diagnosis other than ", "Cigna denied 93000 with diagnosis "),
        "mostly CO-11",
    ),
    "credentialing": (
        (f"Humana denied lines of rendering provider {CREDENTIALING_GAP_NPI} in ",),
        "mostly CO-B7",
    ),
    "units": (("Medicaid denied 97530 billed with ",), "mostly CO-151"),
    "bundling": (
        (
            "Blue Cross denied 36415 billed with 99213 ",
            "Blue Cross denied 36415 billed with 99214 ",
        ),
        "mostly CO-97",
    ),
}


def explains(name: str, text: str) -> bool:
    """Whether `text` (a factor's evidence) explains the planted behaviour `name`."""
    starts, carc = EVIDENCE[name]
    return text.startswith(starts) and carc in text and " of " in text


@dataclass
class History:
    lines: list[HistoryLine] = field(default_factory=list)
    planted: list[str] = field(default_factory=list)  # the behaviour that denied each line

    def split(self, cutoff: date) -> tuple[History, History]:
        """Lines served before `cutoff`, and the rest."""
        before, after = History(), History()
        for line, planted in zip(self.lines, self.planted, strict=True):
            part = before if line.service_date < cutoff else after
            part.lines.append(line)
            part.planted.append(planted)
        return before, after


def _planted(line: HistoryLine) -> str:
    """The planted behaviour that applies to this line, if any."""
    code, payer = line.procedure_code, line.payer_id
    if payer == "UHC" and code == "97110" and "GP" not in line.modifiers:
        return "modifier"
    if payer == "AETNA" and code in {"72148", "70551"} and not line.prior_authorization:
        return "prior_auth"
    if payer == "CIGNA" and code == "93000" and line.diagnosis not in CARDIAC:
        return "diagnosis"
    if payer == "HUMANA" and line.rendering_npi == CREDENTIALING_GAP_NPI:
        return "credentialing"
    if payer == "MCD" and code == "97530" and line.units > 4:
        return "units"
    if payer == "BCBS" and code == "36415" and {"99213", "99214"} & set(line.claim_codes):
        return "bundling"
    return ""


PLANTED_CARC = {
    "modifier": "CO-4",
    "prior_auth": "CO-197",
    "diagnosis": "CO-11",
    "credentialing": "CO-B7",
    "units": "CO-151",
    "bundling": "CO-97",
}

# Where a planted behaviour lives, no everyday leaning hides it.
PLANTED_PAIRS = {
    ("UHC", "97110"),
    ("AETNA", "72148"),
    ("AETNA", "70551"),
    ("CIGNA", "93000"),
    ("MCD", "97530"),
    ("BCBS", "36415"),
}


def generate_history(
    claims: int, *, seed: int = 7, start: date = date(2025, 1, 1), months: int = 12
) -> History:
    """`claims` claims (1 to 4 lines each, about 2.2 on average) served over `months` months
    from `start`, in service-date order."""
    rng = random.Random(seed)
    days = round(months * 30.44)
    codes = list(PROCEDURES)
    weights = [PROCEDURES[code][0] for code in codes]
    payer_weights = [14, 16, 10, 9, 18, 12, 15, 6]
    providers = [f"14675{index:05d}" for index in range(2, 40)] + [CREDENTIALING_GAP_NPI]
    # Everyday denials: some payer x code pairs deny often (medical necessity, missing
    # information), telehealth at two payers, and a little pure chance per payer.
    leaning = {
        (payer, code): rng.uniform(0.2, 0.5)
        for payer in PAYERS
        for code in codes
        if rng.random() < 0.17 and (payer, code) not in PLANTED_PAIRS
    }
    chance = {payer: rng.uniform(0.01, 0.02) for payer in PAYERS}
    history = History()
    served = sorted(rng.randrange(days) for _ in range(claims))
    for number, offset in enumerate(served):
        payer = rng.choices(PAYERS, payer_weights)[0]
        provider = rng.choice(providers)
        place = rng.choices(["11", "22", "02", "21"], [70, 15, 10, 5])[0]
        diagnosis = rng.choice(DIAGNOSES)
        picked = list(dict.fromkeys(rng.choices(codes, weights, k=rng.choice([1, 1, 2, 2, 3, 4]))))
        authorised = rng.random() < 0.75
        day = start + timedelta(days=offset)
        for code in picked:
            modifiers: tuple[str, ...] = ()
            if code in THERAPY:
                modifiers = ("GP",) if rng.random() < 0.7 else rng.choice([(), ("59",)])
            elif code.startswith("99") and len(picked) > 1 and rng.random() < 0.3:
                modifiers = ("25",)
            units = float(rng.choice([1, 2, 3, 4, 4, 5, 6])) if code in THERAPY else 1.0
            charge = round(PROCEDURES[code][1] * units * rng.uniform(0.85, 1.2), 2)
            line = HistoryLine(
                claim_key=f"C{seed}-{number:08d}",
                service_date=day,
                payer_id=payer,
                payer_name=PAYER_NAMES[payer],
                procedure_code=code,
                modifiers=modifiers,
                place_of_service=place,
                diagnosis=rng.choice(sorted(CARDIAC)) if rng.random() < 0.1 else diagnosis,
                rendering_npi=provider,
                units=units,
                charge=charge,
                prior_authorization=authorised,
                claim_codes=tuple(picked),
            )
            planted = _planted(line)
            carc = ""
            if planted and rng.random() < 0.92:
                carc = PLANTED_CARC[planted]
            else:
                planted = ""
                carc = _everyday(rng, line, leaning.get((payer, code), 0.0), chance[payer])
            history.lines.append(replace(line, denied=bool(carc), carc=carc))
            history.planted.append(planted if carc else "")
    return history


def _everyday(rng: random.Random, line: HistoryLine, leaning: float, chance: float) -> str:
    """The CARC of an everyday denial of this line, "" when paid."""
    if rng.random() < leaning:
        return rng.choice(["CO-50", "CO-16"])
    telehealth = line.place_of_service == "02" and line.payer_id in TELEHEALTH_PAYERS
    if telehealth and rng.random() < 0.35:
        return "CO-5"
    if rng.random() < chance:
        return rng.choice(CHANCE_CARCS)
    return ""
