"""The few factors behind a line's risk, in words and with counts from the training history:
"UnitedHealthcare denied 97110 without modifier GP in 41 of 50 lines in the last 180 days,
mostly CO-4". Each factor is one grouping of the history (payer x code x modifiers, x prior
authorization, x diagnosis, x units, payer x rendering provider, code billed with another
code on the claim); a line's factors are the groupings it falls in whose denial rate stands out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.claim_risk.features import modifier_key, units_key
from services.claim_risk.history import HistoryLine

WINDOW_DAYS = 180
MIN_LINES = 10  # a grouping with fewer lines is not evidence
TOP_FACTORS = 2


@dataclass(slots=True)
class Tally:
    lines: int = 0
    denied: int = 0
    carcs: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        # Shrunk towards nothing denied, so 3 of 3 does not outrank 45 of 50.
        return self.denied / (self.lines + 2)

    def add(self, denied: bool, carc: str) -> None:
        self.lines += 1
        if denied:
            self.denied += 1
            self.carcs[carc] += 1


@dataclass(frozen=True, slots=True)
class Factor:
    text: str  # the evidence, with its counts
    fix: str
    rate: float


def _keys(line: HistoryLine) -> Iterable[tuple[str, ...]]:
    payer, code = line.payer_id, line.procedure_code
    yield ("mods", payer, code, modifier_key(line.modifiers))
    yield ("auth", payer, code, "A" if line.prior_authorization else "N")
    yield ("dx", payer, code, line.diagnosis)
    yield ("units", payer, code, units_key(line.units))
    yield ("npi", payer, line.rendering_npi)
    for other in set(line.claim_codes) - {code}:
        yield ("with", payer, code, other)


class Evidence:
    """Counts per grouping over the last WINDOW_DAYS of the training history."""

    def __init__(self, lines: Sequence[HistoryLine]) -> None:
        self.as_of = max((line.service_date for line in lines), default=date.min)
        since = self.as_of - timedelta(days=WINDOW_DAYS)
        self.tallies: dict[tuple[str, ...], Tally] = {}
        self.payer_names: dict[str, str] = {}
        self._paid_diagnoses: dict[tuple[str, str], tuple[str, ...]] = {}
        recent = [line for line in lines if line.service_date > since]
        for line in recent:
            self.payer_names.setdefault(line.payer_id, line.payer_name or line.payer_id)
            self._count(line, (*_keys(line), ("payer", line.payer_id)))
        self._find_paid_diagnoses()
        for line in recent:
            self._count(line, self._diagnosis_keys(line))
        # Groupings too small to be quoted are dropped: the model file stays small.
        self.tallies = {k: t for k, t in self.tallies.items() if t.lines >= MIN_LINES}
        # Per grouping's parent (kind, payer[, code]): its two best-paid values, to say what a
        # line does differently from the lines the payer pays.
        siblings: dict[tuple[str, ...], list[tuple[float, str]]] = {}
        for key, tally in self.tallies.items():
            siblings.setdefault(key[:-1], []).append((tally.rate, key[-1]))
        self._best = {parent: sorted(found)[:2] for parent, found in siblings.items()}

    def _count(self, line: HistoryLine, keys: Iterable[tuple[str, ...]]) -> None:
        for key in keys:
            tally = self.tallies.get(key)
            if tally is None:
                tally = self.tallies[key] = Tally()
            tally.add(line.denied, line.carc)

    def _find_paid_diagnoses(self) -> None:
        """A code a payer pays with a few diagnoses only: each other diagnosis may be too rare
        to quote, all of them together are not ("93000 with a diagnosis other than I10")."""
        paid: dict[tuple[str, str], list[str]] = {}
        denied: set[tuple[str, str]] = set()
        for key, tally in self.tallies.items():
            if key[0] != "dx" or tally.lines < MIN_LINES // 2:
                continue
            share = tally.denied / tally.lines
            if share <= 0.2:
                paid.setdefault((key[1], key[2]), []).append(key[3])
            elif share >= 0.5:
                denied.add((key[1], key[2]))
        self._paid_diagnoses = {
            pair: tuple(sorted(found))
            for pair, found in paid.items()
            if pair in denied and len(found) <= 5
        }

    def _diagnosis_keys(self, line: HistoryLine) -> list[tuple[str, ...]]:
        paid = self._paid_diagnoses.get((line.payer_id, line.procedure_code))
        if paid is None:
            return []
        inside = "paid" if line.diagnosis in paid else "other"
        return [("dx-set", line.payer_id, line.procedure_code, inside)]

    def _best_other(self, key: tuple[str, ...]) -> tuple[float, str] | None:
        """The best-paid sibling of a grouping: same payer (and code), another value."""
        return next((best for best in self._best.get(key[:-1], []) if best[1] != key[-1]), None)

    def factors(self, line: HistoryLine) -> list[Factor]:
        """The groupings this line falls in that deny well above the payer's usual rate, the
        highest first (at most TOP_FACTORS)."""
        payer = self.tallies.get(("payer", line.payer_id))
        floor = max(0.25, 2 * payer.rate) if payer else 0.25
        found = []
        for key in (*_keys(line), *self._diagnosis_keys(line)):
            tally = self.tallies.get(key)
            if tally is None or tally.rate < floor:
                continue
            # A factor is what sets this line apart: lines the payer pays otherwise exist.
            other = self._best_other(key)
            if other is not None and other[0] < 0.5 * tally.rate:
                found.append(self._factor(key, tally, other[1]))
        found.sort(key=lambda factor: factor.rate, reverse=True)
        return found[:TOP_FACTORS]

    def _factor(self, key: tuple[str, ...], tally: Tally, paid: str) -> Factor:
        kind, payer_id, code = key[0], key[1], key[2]
        payer = self.payer_names.get(payer_id, payer_id)
        what, fix = f"{code}", "Review the line against the payer's policy before sending."
        if kind == "mods":
            what, fix = _modifiers(code, key[3], paid, payer)
        elif kind == "auth":
            what = f"{code} without a prior authorization" if key[3] == "N" else code
            fix = f"Obtain {payer}'s prior authorization for {code} and send its number (REF*G1)."
        elif kind == "dx":
            what = f"{code} with diagnosis {key[3]}"
            fix = f"Check that the diagnosis supports {code} under {payer}'s coverage policy."
        elif kind == "dx-set":
            listed = ", ".join(self._paid_diagnoses.get((payer_id, code), ()))
            what = f"{code} with a diagnosis other than {listed}"
            fix = f"Check that the diagnosis supports {code} under {payer}'s coverage policy."
        elif kind == "units":
            what = f"{code} billed with {key[3]} units"
            fix = f"Check the units against {payer}'s limit for {code}."
        elif kind == "npi":
            what = f"lines of rendering provider {code}"
            fix = f"Check the rendering provider's enrolment and credentialing with {payer}."
        elif kind == "with":
            what = f"{code} billed with {key[3]} on the same claim"
            fix = (
                f"Check whether {code} is bundled into {key[3]} for {payer}; bill it apart "
                "only if it was a distinct service (modifier 59/X{EPSU})."
            )
        carc = tally.carcs.most_common(1)[0][0] if tally.carcs else ""
        text = (
            f"{payer} denied {what} in {tally.denied} of {tally.lines} lines in the last "
            f"{WINDOW_DAYS} days" + (f", mostly {carc}" if carc else "")
        )
        return Factor(text=text, fix=fix, rate=tally.rate)


def _modifiers(code: str, billed: str, paid: str, payer: str) -> tuple[str, str]:
    """'97110 without modifier GP' when the payer pays the code with a modifier this line
    lacks; else the modifiers as billed."""
    have = set(billed.split("+")) - {"-"}
    missing = "+".join(sorted(set(paid.split("+")) - have - {"-"}))
    if missing:
        return (
            f"{code} without modifier {missing}",
            f"Check whether {payer} needs modifier {missing} on {code}.",
        )
    shown = f"with modifier {billed}" if have else "without modifiers"
    return f"{code} {shown}", f"Check the modifiers {payer} expects on {code}."
