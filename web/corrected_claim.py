"""The corrected-claim form, built from the claim's own service lines: each line's values are
edited in place, with the claim-level fields (billing provider NPI, diagnosis codes, frequency).

Only what the biller changed goes into the payload's `claim_corrections` (the API's shape, and
what the workflow has always received). Every problem is found in one pass, the form's own
(a number that is not one) and the domain's (`correction_problems`), each beside its field.
A claim whose file listed no lines (a 277CA or 999) gets empty rows to give them as billed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from domain.appeals.corrections import (
    MAX_POINTERS,
    ClaimCorrections,
    Frequency,
    LineCorrection,
    correction_problems,
)
from domain.models import Claim, ClaimType, DenialKind, DenialRecord, ServiceLine
from domain.npi import npi_problem

# The form's line fields, in the order shown, with their labels (each line is a fieldset
# whose legend names the line, so the labels can be the same on every line).
LINE_FIELDS: dict[str, str] = {
    "procedure_code": "Procedure code",
    "modifiers": "Modifiers",
    "units": "Units",
    "billed_amount": "Charge",
    "service_date": "Service date",
    "diagnosis_pointers": "Diagnosis pointers",
    "revenue_code": "Revenue code",
}
CLAIM_FIELDS = ("frequency", "billing_provider_npi", "diagnosis_codes")
# Pydantic's words for a refused value, in a biller's.
_REFUSED = {
    "procedure_code": "a CPT or HCPCS code is 5 letters or digits, such as 99214 or G0439",
    "modifiers": "at most 4 modifiers of two letters or digits, such as 25, 59",
    "units": "give a number above 0 and at most 9999, such as 1 or 2.5",
    "billed_amount": "give an amount of 0 or more, such as 120.00",
    "diagnosis_pointers": f"up to {MAX_POINTERS} numbers from 1 to 12, such as 1, 2",
    "revenue_code": "a revenue code is 4 digits, such as 0510",
}


def form_name(number: int, name: str) -> str:
    return f"line-{number}-{name}"


@dataclass(frozen=True)
class CorrectionTarget:
    """The claim a corrected-claim form corrects."""

    claim: Claim
    kind: DenialKind
    today: date

    @classmethod
    def of(cls, record: DenialRecord, today: date) -> CorrectionTarget:
        return cls(record.claim, record.kind, today)


@dataclass
class FormLine:
    number: int
    new: bool  # given by the biller: the file listed no lines
    denied: str = ""  # the line's denial codes, e.g. "CO-251"
    fields: list[tuple[str, str]] = field(default_factory=list)  # (form name, label)


@dataclass
class CorrectionForm:
    lines: list[FormLine]
    institutional: bool
    rejection: bool
    lineless: bool

    def summary(self, errors: Mapping[str, str]) -> list[tuple[str, str]]:
        """(form field, "what: why") of every error, in the order of the form."""
        order = [*CLAIM_FIELDS, *(n for line in self.lines for n, _ in line.fields)]
        labels = {"billing_provider_npi": "Billing provider NPI", "frequency": "Frequency"}
        labels["diagnosis_codes"] = "Diagnosis codes"
        for line in self.lines:
            for name, label in line.fields:
                labels[name] = f"Line {line.number} {label.lower()}"
        return [(name, f"{labels[name]}: {errors[name]}") for name in order if name in errors]


def correction_form(
    target: CorrectionTarget, values: Mapping[str, str], denied: Mapping[int, str] | None = None
) -> CorrectionForm:
    """The rows to show: the claim's lines (`denied` gives the denial codes of each denied
    one), or as many rows as the biller asked for."""
    claim = target.claim
    institutional = claim.claim_type is ClaimType.INSTITUTIONAL
    # An institutional line reads as on a UB-04: revenue code first.
    names = (
        ["revenue_code", *(n for n in LINE_FIELDS if n != "revenue_code")]
        if institutional
        else [n for n in LINE_FIELDS if n != "revenue_code"]
    )
    lines: list[FormLine] = []
    if claim.service_lines:
        for line in claim.service_lines:
            lines.append(
                FormLine(line.line_number, False, (denied or {}).get(line.line_number, ""))
            )
    else:
        for number in range(1, line_count(values) + 1):
            lines.append(FormLine(number, True))
    for form_line in lines:
        form_line.fields = [(form_name(form_line.number, n), LINE_FIELDS[n]) for n in names]
    return CorrectionForm(
        lines=lines,
        institutional=institutional,
        rejection=target.kind is DenialKind.REJECTION,
        lineless=not claim.service_lines,
    )


def line_count(values: Mapping[str, str]) -> int:
    """Rows for a claim without lines: one, plus one per "Add a line"."""
    try:
        count = int(values.get("line_count") or 1)
    except ValueError:
        count = 1
    return max(1, min(count + (1 if values.get("add_line") else 0), 50))


def initial_values(target: CorrectionTarget) -> dict[str, str]:
    """The claim as it stands, in the form's fields."""
    claim = target.claim
    values = {"billing_provider_npi": claim.provider_npi, "line_count": "1"}
    for line in claim.service_lines:
        values |= _line_values(line, claim)
    if not claim.service_lines:  # one row, with what the file told of the claim
        values[form_name(1, "service_date")] = claim.service_date_from.isoformat()
        values[form_name(1, "units")] = "1"
        if claim.billed_amount:
            values[form_name(1, "billed_amount")] = f"{claim.billed_amount:.2f}"
    return values


def _line_values(line: ServiceLine, claim: Claim) -> dict[str, str]:
    served = line.service_date or claim.service_date_from
    shown = {
        "procedure_code": line.procedure_code,
        "modifiers": ", ".join(line.modifiers),
        "units": _number(line.units),
        "billed_amount": f"{line.billed_amount:.2f}",
        "service_date": served.isoformat(),
        "diagnosis_pointers": ", ".join(str(p) for p in line.diagnosis_pointers),
        "revenue_code": line.revenue_code,
    }
    return {form_name(line.line_number, name): value for name, value in shown.items()}


def _number(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_corrections(
    form: Mapping[str, Any], target: CorrectionTarget
) -> tuple[ClaimCorrections | None, dict[str, str]]:
    """The structured corrections (None: nothing to build an 837 from, the claim was sent
    outside the case manager) and every problem, keyed by form field ("" for the form)."""
    claim = target.claim
    posted = {key: str(value).strip() for key, value in form.items()}
    errors: dict[str, str] = {}
    header: dict[str, Any] = {}
    diagnoses = [c for c in posted.get("diagnosis_codes", "").replace(";", ",").split(",") if c]
    npi = posted.get("billing_provider_npi", "")
    if npi != claim.provider_npi:
        header["billing_provider_npi"] = npi
        problem = npi_problem(npi)
        if problem:  # said beside the field, which names the NPI already
            errors["billing_provider_npi"] = problem
    if posted.get("frequency"):
        header["frequency"] = posted["frequency"]
    lines: list[LineCorrection] = []
    # A void needs an 837 as much as a changed value does.
    changed = "billing_provider_npi" in header or header.get("frequency") == Frequency.VOID
    prefill = initial_values(target)
    for form_line in correction_form(target, posted).lines:
        entry, line_errors = _line_entry(form_line.number, posted, claim, prefill)
        errors |= line_errors
        if entry is None:
            continue
        changed = True
        try:
            lines.append(LineCorrection.model_validate(entry))
        except ValidationError as exc:
            refused = {str(error["loc"][0]): error for error in exc.errors()}
            for name, error in refused.items():
                errors.setdefault(form_name(form_line.number, name), _refused(name, error))
            # The line's other values are still checked against the claim.
            kept = {key: value for key, value in entry.items() if key not in refused}
            lines.append(LineCorrection.model_validate(kept))
    if not diagnoses and not changed:
        return None, errors
    if not diagnoses:
        errors["diagnosis_codes"] = "needed to build the corrected 837 with these changes"
    corrections = None
    try:
        corrections = ClaimCorrections.model_validate(
            {**header, "diagnosis_codes": diagnoses or ["R69"], "lines": lines}
        )
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0])
            errors.setdefault(name, _refused(name, error))
        # Go on with what is valid, so that every problem shows at once.
        frequency = header.get("frequency") if "frequency" not in errors else None
        corrections = ClaimCorrections.model_construct(
            frequency=Frequency(frequency) if frequency else None,
            billing_provider_npi=header.get("billing_provider_npi")
            if "billing_provider_npi" not in errors
            else None,
            diagnosis_codes=diagnoses,
            lines=lines,
        )
    for problem in correction_problems(claim, corrections, target.kind, target.today):
        errors.setdefault(_form_field(problem.field), problem.message)
    return (corrections if not errors else None), errors


def _refused(name: str, error: Any) -> str:
    """A validator's own sentence, else the field's rule in words."""
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return _REFUSED.get(name) or str(error["msg"])


def _line_entry(
    number: int, posted: Mapping[str, str], claim: Claim, prefill: Mapping[str, str]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """One line's changes (None: none), and the values that are not what they claim to be.
    A claim's line sends only what changed; a line the biller gives sends all it has, once
    anything differs from what the form started with."""
    original = next((line for line in claim.service_lines if line.line_number == number), None)
    before = _line_values(original, claim) if original else prefill
    keys = [(name, form_name(number, name)) for name in LINE_FIELDS]
    typed = {(name, key): posted[key] for name, key in keys if key in posted}
    if original is None and all(raw == before.get(key, "") for (_, key), raw in typed.items()):
        return None, {}  # a row left as it came: not a line
    entry: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for (name, key), raw in typed.items():
        if original is not None and _same(name, raw, before.get(key, "")):
            continue
        if original is None and not raw:
            continue
        try:
            entry[name] = _value(name, raw)
        except ValueError as exc:
            errors[key] = str(exc)
    if original is not None and not entry and not errors:
        return None, errors
    return {"line_number": number, **entry}, errors


def _same(name: str, raw: str, before: str) -> bool:
    """Typed as the claim has it (an amount written 120 or 120.00 is the same)."""
    if raw == before:
        return True
    try:
        return _value(name, raw) == _value(name, before)
    except ValueError:
        return False


def _value(name: str, raw: str) -> Any:
    if name == "procedure_code":
        return raw.upper()
    if name == "modifiers":
        return [m for m in raw.replace(",", " ").upper().split() if m]
    if name in ("units", "billed_amount"):
        # A thousands separator in a charge; in units a comma is more likely "1,5" for 1.5.
        text = raw.replace(",", "").removeprefix("$") if name == "billed_amount" else raw
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise ValueError(_REFUSED[name])
        return value
    if name == "service_date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError("give a date as YYYY-MM-DD") from None
    if name == "diagnosis_pointers":
        parts = raw.replace(",", " ").split()
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise ValueError(_REFUSED[name])
        return [int(part) for part in parts] or None
    return raw


def _form_field(domain_field: str) -> str:
    """'lines.2.units' -> 'line-2-units'; claim-level names are the form's own."""
    parts = domain_field.split(".")
    if parts[0] == "lines" and len(parts) == 3:
        return form_name(int(parts[1]), parts[2])
    if domain_field == "lines":
        return form_name(1, "procedure_code")
    return domain_field if domain_field in CLAIM_FIELDS else ""


FREQUENCIES = (
    (Frequency.REPLACEMENT.value, "7: replace the claim"),
    (Frequency.VOID.value, "8: void the claim"),
)
