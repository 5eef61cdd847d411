"""Prevention edits: a condition on a claim's fields, written on a prevention item by the team
that owns the fix, that warns about or blocks the next claim the pattern would deny.

A condition is a small declarative structure (never code, never evaluated text): every part
named must hold. Parts on line fields (procedure code, modifiers, units, and place of service or
rendering NPI, which a line may carry itself) are checked line by line, and a finding names the
line; the others look at the whole claim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.claim_checks.findings import (
    ClaimUnderCheck,
    Finding,
    FindingKind,
    LineUnderCheck,
    Severity,
)
from domain.npi import npi_problem

EDIT_SEVERITIES = (Severity.WARN, Severity.BLOCK)
MAX_FIX_LENGTH = 2000
MAX_LIST = 200  # codes in one list: a condition is a pattern, not a fee schedule

_PROCEDURE = re.compile(r"[A-Z0-9]{5}")  # CPT or HCPCS
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_PLACE = re.compile(r"[0-9]{2}")
_DIAGNOSIS = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")  # ICD-10-CM without its dot
_PAYER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_SEPARATORS = re.compile(r"[\s,;]+")

# Each condition field in the words of the prevention board's form.
CONDITION_LABELS: dict[str, str] = {
    "payer_ids": "Payer ids",
    "procedure_codes": "Procedure codes",
    "modifier_missing": "Modifier missing",
    "modifier_present": "Modifier present",
    "places_of_service": "Places of service",
    "diagnosis_present": "Diagnosis present",
    "diagnosis_absent": "Diagnosis absent",
    "units_over": "Units over",
    "rendering_npis": "Rendering NPIs",
    "prior_authorization_missing": "Prior authorization missing",
}
LINE_FIELDS = frozenset(
    {
        "procedure_codes",
        "modifier_missing",
        "modifier_present",
        "units_over",
        "places_of_service",
        "rendering_npis",
    }
)


class EditCondition(BaseModel):
    """Every part given must hold; an empty list or "" leaves that field unchecked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payer_ids: tuple[str, ...] = ()
    procedure_codes: tuple[str, ...] = ()
    modifier_missing: str = ""
    modifier_present: str = ""
    places_of_service: tuple[str, ...] = ()
    diagnosis_present: tuple[str, ...] = ()  # any of them on the claim (or the line)
    diagnosis_absent: tuple[str, ...] = ()  # none of them
    units_over: Decimal | None = None
    rendering_npis: tuple[str, ...] = ()
    prior_authorization_missing: bool = False

    def named(self) -> list[str]:
        """The fields this condition checks, in the form's order."""
        return [
            name
            for name in CONDITION_LABELS
            if (self.units_over is not None if name == "units_over" else bool(getattr(self, name)))
        ]

    def on_lines(self) -> bool:
        return any(name in LINE_FIELDS for name in self.named())

    def describe(self) -> str:
        """The condition in words, for the board and a finding's evidence."""
        parts: list[str] = []
        if self.payer_ids:
            parts.append(f"payer {_either(self.payer_ids)}")
        if self.procedure_codes:
            parts.append(f"procedure {_either(self.procedure_codes)}")
        if self.modifier_missing:
            parts.append(f"without modifier {self.modifier_missing}")
        if self.modifier_present:
            parts.append(f"with modifier {self.modifier_present}")
        if self.places_of_service:
            parts.append(f"place of service {_either(self.places_of_service)}")
        if self.diagnosis_present:
            parts.append(f"diagnosis {_either(self.diagnosis_present)}")
        if self.diagnosis_absent:
            parts.append(f"no diagnosis {_either(self.diagnosis_absent)}")
        if self.units_over is not None:
            parts.append(f"more than {self.units_over} units")
        if self.rendering_npis:
            parts.append(f"rendering NPI {_either(self.rendering_npis)}")
        if self.prior_authorization_missing:
            parts.append("no prior authorization reference")
        return ", ".join(parts)


class PreventionEdit(BaseModel):
    """One version of an edit on a prevention item. Editing it makes a new version, so a
    finding's code (id@version) always says exactly which condition fired."""

    model_config = ConfigDict(frozen=True)

    edit_id: str
    version: int = Field(ge=1)
    prevention_task_id: str
    severity: Severity
    condition: EditCondition
    fix: str
    enabled: bool = True

    @property
    def code(self) -> str:
        return f"{self.edit_id}@v{self.version}"


class EditDraft(BaseModel):
    """What the owning team wrote, checked: the parts of an edit a person chooses."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    condition: EditCondition
    fix: str
    enabled: bool = True


def _either(values: Iterable[str]) -> str:
    values = list(values)
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _codes(raw: Any) -> list[str]:
    """A list, or text with codes separated by commas, semicolons or spaces."""
    if raw is None:
        return []
    items = _SEPARATORS.split(raw) if isinstance(raw, str) else [str(item) for item in raw]
    return [item.strip() for item in items if item and item.strip()]


def _code_list(
    raw: Any, name: str, shape: Callable[[str], str | None], errors: dict[str, str]
) -> tuple[str, ...]:
    if raw is not None and not isinstance(raw, str | list | tuple):
        errors[name] = "a list of codes, or codes separated by commas"
        return ()
    values = _codes(raw)
    if len(values) > MAX_LIST:
        errors[name] = f"at most {MAX_LIST} codes ({len(values)} given)"
        return ()
    bad = [f"{value} {problem}" for value in values if (problem := shape(value))]
    if bad:
        errors[name] = "; ".join(bad[:5]) + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else "")
        return ()
    return tuple(dict.fromkeys(values))  # once each, in the order written


def _matching(pattern: re.Pattern[str], words: str) -> Callable[[str], str | None]:
    return lambda value: None if pattern.fullmatch(value) else words


def _procedure(value: str) -> str | None:
    return None if _PROCEDURE.fullmatch(value.upper()) else "is not a 5-character CPT/HCPCS code"


def _diagnosis(value: str) -> str | None:
    if _DIAGNOSIS.fullmatch(value.upper().replace(".", "")):
        return None
    return "is not an ICD-10 code (a letter, a digit, then 1 to 5 letters or digits)"


def _modifier(raw: Any, name: str, errors: dict[str, str]) -> str:
    value = str(raw or "").strip().upper()
    if value and not _MODIFIER.fullmatch(value):
        errors[name] = f"{value} is not a modifier (2 letters or digits, such as GP or 59)"
        return ""
    return value


def _units(raw: Any, errors: dict[str, str]) -> Decimal | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        errors["units_over"] = "a number of units, such as 4"
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        errors["units_over"] = f"{raw} is not a number of units, such as 4"
        return None
    if not value.is_finite() or value < 0 or value > 100_000:
        errors["units_over"] = "a number of units from 0 to 100,000"
        return None
    return value


def _flag(raw: Any, name: str, errors: dict[str, str]) -> bool:
    """A checkbox ("on"/"true"/"1"), a JSON boolean, or absent."""
    if isinstance(raw, bool):
        return raw
    text = str(raw or "").strip().lower()
    if text in {"", "0", "false", "off", "no"}:
        return False
    if text in {"1", "true", "on", "yes"}:
        return True
    errors[name] = "yes or no"
    return False


def read_condition(raw: Mapping[str, Any], errors: dict[str, str]) -> EditCondition | None:
    """The condition a person wrote (form text or API JSON), or None with every problem put in
    `errors` under its field's name."""
    unknown = sorted(set(raw) - set(CONDITION_LABELS))
    if unknown:
        errors[""] = f"unknown condition fields: {', '.join(unknown)}"
    before = len(errors)
    payer_ids = _code_list(
        raw.get("payer_ids"),
        "payer_ids",
        _matching(_PAYER, "is not a payer id (letters, digits, '.', '-' or '_')"),
        errors,
    )
    procedures = _code_list(raw.get("procedure_codes"), "procedure_codes", _procedure, errors)
    places = _code_list(
        raw.get("places_of_service"),
        "places_of_service",
        _matching(_PLACE, "is not a place of service (2 digits, such as 11)"),
        errors,
    )
    present = _code_list(raw.get("diagnosis_present"), "diagnosis_present", _diagnosis, errors)
    absent = _code_list(raw.get("diagnosis_absent"), "diagnosis_absent", _diagnosis, errors)
    condition = {
        "payer_ids": payer_ids,
        "procedure_codes": tuple(code.upper() for code in procedures),
        "modifier_missing": _modifier(raw.get("modifier_missing"), "modifier_missing", errors),
        "modifier_present": _modifier(raw.get("modifier_present"), "modifier_present", errors),
        "places_of_service": places,
        "diagnosis_present": tuple(_icd(code) for code in present),
        "diagnosis_absent": tuple(_icd(code) for code in absent),
        "units_over": _units(raw.get("units_over"), errors),
        "rendering_npis": _code_list(
            raw.get("rendering_npis"), "rendering_npis", npi_problem, errors
        ),
        "prior_authorization_missing": _flag(
            raw.get("prior_authorization_missing"), "prior_authorization_missing", errors
        ),
    }
    if len(errors) > before or unknown:
        return None
    missing, present_mod = condition["modifier_missing"], condition["modifier_present"]
    if missing and missing == present_mod:
        errors["modifier_present"] = f"{missing} cannot be both missing and present"
    both = set(condition["diagnosis_present"]) & set(condition["diagnosis_absent"])
    if both:
        errors["diagnosis_absent"] = f"{_either(sorted(both))} also named as present"
    result = EditCondition.model_validate(condition)
    if not result.named():
        errors[""] = (
            "the condition is empty: name at least one claim field (it would match every claim)"
        )
    return None if len(errors) > before else result


def _icd(code: str) -> str:
    return code.upper().replace(".", "")


def read_edit(raw: Mapping[str, Any]) -> tuple[EditDraft | None, dict[str, str]]:
    """An edit as written on the board: severity, condition (under "condition"), fix text and
    whether it is on. Returns the draft, or None and every problem by field."""
    errors: dict[str, str] = {}  # in the form's order: the condition, then what to do
    condition_raw = raw.get("condition")
    if not isinstance(condition_raw, Mapping):
        errors["condition"] = "the claim fields the edit looks at"
        condition = None
    else:
        condition = read_condition(condition_raw, errors)
    severity_text = str(raw.get("severity") or "").strip().lower()
    if severity_text not in {severity.value for severity in EDIT_SEVERITIES}:
        errors["severity"] = "warn (the biller looks before sending) or block (it cannot go out)"
    fix = str(raw.get("fix") or "").strip()
    if not fix:
        errors["fix"] = "say what to change before sending, such as: add modifier GP"
    elif len(fix) > MAX_FIX_LENGTH:
        errors["fix"] = f"at most {MAX_FIX_LENGTH} characters ({len(fix)} written)"
    enabled = _flag(raw.get("enabled", True), "enabled", errors)
    if errors or condition is None:
        return None, errors
    return EditDraft(
        severity=Severity(severity_text), condition=condition, fix=fix, enabled=enabled
    ), errors


def _line_matches(condition: EditCondition, claim: ClaimUnderCheck, line: LineUnderCheck) -> bool:
    if condition.procedure_codes and line.procedure_code.upper() not in condition.procedure_codes:
        return False
    modifiers = {modifier.upper() for modifier in line.modifiers}
    if condition.modifier_missing and condition.modifier_missing in modifiers:
        return False
    if condition.modifier_present and condition.modifier_present not in modifiers:
        return False
    if condition.units_over is not None and not line.units > condition.units_over:
        return False
    place = line.place_of_service or claim.place_of_service
    if condition.places_of_service and place not in condition.places_of_service:
        return False
    rendering = line.rendering_npi or claim.rendering_npi
    if condition.rendering_npis and rendering not in condition.rendering_npis:
        return False
    return _diagnoses_match(condition, line.diagnosis_codes or claim.diagnosis_codes)


def _diagnoses_match(condition: EditCondition, codes: Sequence[str]) -> bool:
    held = {_icd(code) for code in codes}
    if condition.diagnosis_present and not held & set(condition.diagnosis_present):
        return False
    return not held & set(condition.diagnosis_absent)


def _claim_matches(condition: EditCondition, claim: ClaimUnderCheck) -> bool:
    if condition.payer_ids and claim.payer_id not in condition.payer_ids:
        return False
    return not (condition.prior_authorization_missing and claim.prior_authorization.strip())


def _why(condition: EditCondition, claim: ClaimUnderCheck, line: LineUnderCheck | None) -> str:
    """What the claim holds in each field the condition names: why the edit matched."""
    seen: list[str] = []
    if condition.payer_ids:
        seen.append(f"payer {claim.payer_id}")
    if line is not None:
        if condition.procedure_codes:
            seen.append(f"procedure {line.procedure_code}")
        if condition.modifier_missing or condition.modifier_present:
            seen.append(f"modifiers {' '.join(line.modifiers) or 'none'}")
        if condition.units_over is not None:
            seen.append(f"{line.units} units")
        if condition.places_of_service:
            seen.append(f"place of service {line.place_of_service or claim.place_of_service}")
        if condition.rendering_npis:
            seen.append(f"rendering NPI {line.rendering_npi or claim.rendering_npi}")
    if condition.diagnosis_present or condition.diagnosis_absent:
        codes = (line.diagnosis_codes if line else ()) or claim.diagnosis_codes
        seen.append(f"diagnoses {' '.join(codes) or 'none'}")
    if condition.prior_authorization_missing:
        seen.append("no prior authorization reference (REF*G1)")
    return ", ".join(seen)


def _finding(edit: PreventionEdit, claim: ClaimUnderCheck, line: LineUnderCheck | None) -> Finding:
    where = f"line {line.line_number} ({line.procedure_code})" if line else "the claim"
    return Finding(
        kind=FindingKind.PREVENTION_EDIT,
        severity=edit.severity,
        code=edit.code,
        message=f"Matches prevention edit {edit.code}: {edit.condition.describe()}.",
        evidence=(
            f"Edit {edit.code}, written on prevention item {edit.prevention_task_id} for this "
            f"pattern of denials, fires on {edit.condition.describe()}; "
            f"{where} has {_why(edit.condition, claim, line)}."
        ),
        fix=edit.fix,
        line_number=line.line_number if line else None,
    )


def edit_findings(claim: ClaimUnderCheck, edits: Sequence[PreventionEdit]) -> list[Finding]:
    """One finding per enabled edit the claim matches (per matching line, when the edit names
    line fields), in the order of `edits`."""
    findings: list[Finding] = []
    for edit in edits:
        condition = edit.condition
        if not edit.enabled or not _claim_matches(condition, claim):
            continue
        if condition.on_lines():
            findings.extend(
                _finding(edit, claim, line)
                for line in claim.lines
                if _line_matches(condition, claim, line)
            )
        elif _diagnoses_match(condition, claim.diagnosis_codes):
            findings.append(_finding(edit, claim, None))
    return findings
