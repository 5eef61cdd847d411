"""Prevention edits: reading what the owning team wrote, and which claims and lines they catch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.claim_checks.edits import (
    EditCondition,
    PreventionEdit,
    edit_findings,
    read_condition,
    read_edit,
)
from domain.claim_checks.findings import (
    ClaimUnderCheck,
    FindingKind,
    LineUnderCheck,
    Severity,
)

NPI = "1234567893"  # a valid check digit


def _claim(**fields: Any) -> ClaimUnderCheck:
    lines = fields.pop(
        "lines",
        (
            LineUnderCheck(line_number=1, procedure_code="97110", units=Decimal(2)),
            LineUnderCheck(line_number=2, procedure_code="97140", modifiers=("GP",)),
        ),
    )
    return ClaimUnderCheck(
        claim_id="PCN1",
        payer_id=fields.pop("payer_id", "ACME"),
        place_of_service="11",
        diagnosis_codes=("M545",),
        lines=lines,
        **fields,
    )


def _edit(
    version: int = 1, severity: Severity = Severity.BLOCK, **condition: Any
) -> PreventionEdit:
    return PreventionEdit(
        edit_id="PE-1",
        version=version,
        prevention_task_id="PV-1",
        severity=severity,
        condition=EditCondition(**condition),
        fix="Add modifier GP to therapy lines",
    )


def test_a_line_condition_names_the_line_and_says_which_edit_and_why() -> None:
    edit = _edit(payer_ids=("ACME",), procedure_codes=("97110", "97140"), modifier_missing="GP")
    [finding] = edit_findings(_claim(), [edit])
    assert finding.kind is FindingKind.PREVENTION_EDIT
    assert finding.severity is Severity.BLOCK
    assert finding.code == "PE-1@v1"
    assert finding.line_number == 1  # line 2 carries GP
    assert "PV-1" in finding.evidence and "modifiers none" in finding.evidence
    assert "payer ACME" in finding.evidence and "procedure 97110" in finding.evidence
    assert finding.fix == "Add modifier GP to therapy lines"


def test_another_payer_or_a_switched_off_edit_finds_nothing() -> None:
    edit = _edit(payer_ids=("OTHER",), procedure_codes=("97110",))
    assert edit_findings(_claim(), [edit]) == []
    off = PreventionEdit(**{**_edit(procedure_codes=("97110",)).model_dump(), "enabled": False})
    assert edit_findings(_claim(), [off]) == []


def test_claim_level_conditions_give_one_finding_for_the_claim() -> None:
    edit = _edit(severity=Severity.WARN, prior_authorization_missing=True, payer_ids=("ACME",))
    [finding] = edit_findings(_claim(), [edit])
    assert finding.line_number is None and finding.severity is Severity.WARN
    assert "REF*G1" in finding.evidence
    assert edit_findings(_claim(prior_authorization="AUTH9"), [edit]) == []


def test_units_over_is_strictly_more() -> None:
    edit = _edit(units_over=Decimal(2))
    assert edit_findings(_claim(), [edit]) == []
    assert [f.line_number for f in edit_findings(_claim(), [_edit(units_over=Decimal(1))])] == [1]


def test_place_of_service_and_rendering_npi_fall_back_to_the_claim() -> None:
    lines = (
        LineUnderCheck(line_number=1, procedure_code="99213"),
        LineUnderCheck(line_number=2, procedure_code="99213", place_of_service="02"),
    )
    claim = _claim(lines=lines, rendering_npi=NPI)
    found = edit_findings(claim, [_edit(places_of_service=("11",), rendering_npis=(NPI,))])
    assert [f.line_number for f in found] == [1]


def test_diagnosis_present_and_absent_read_the_line_pointers_first() -> None:
    lines = (
        LineUnderCheck(line_number=1, procedure_code="97110", diagnosis_codes=("Z0000",)),
        LineUnderCheck(line_number=2, procedure_code="97110"),
    )
    claim = _claim(lines=lines)
    absent = _edit(procedure_codes=("97110",), diagnosis_absent=("M545",))
    assert [f.line_number for f in edit_findings(claim, [absent])] == [1]
    present = _edit(diagnosis_present=("M545",))  # claim level: the claim's codes
    assert [f.line_number for f in edit_findings(claim, [present])] == [None]


def test_modifier_present_and_each_version_its_own_code() -> None:
    edits = [_edit(modifier_present="GP"), _edit(version=2, modifier_present="59")]
    [finding] = edit_findings(_claim(), edits)
    assert (finding.code, finding.line_number) == ("PE-1@v1", 2)


def test_a_claim_without_lines_matches_no_line_condition() -> None:
    assert edit_findings(_claim(lines=()), [_edit(procedure_codes=("97110",))]) == []


def test_read_edit_takes_form_text() -> None:
    draft, errors = read_edit(
        {
            "severity": "block",
            "fix": "Add GP",
            "condition": {
                "payer_ids": "ACME, BETA",
                "procedure_codes": "97110 97140",
                "modifier_missing": "gp",
                "diagnosis_present": "m54.5",
                "units_over": "4",
                "prior_authorization_missing": "on",
            },
        }
    )
    assert errors == {}
    assert draft is not None
    condition = draft.condition
    assert condition.payer_ids == ("ACME", "BETA")
    assert condition.procedure_codes == ("97110", "97140")
    assert condition.modifier_missing == "GP"
    assert condition.diagnosis_present == ("M545",)
    assert condition.units_over == Decimal(4)
    assert condition.prior_authorization_missing is True
    assert draft.severity is Severity.BLOCK and draft.enabled is True


def test_read_edit_names_every_problem_beside_its_field() -> None:
    draft, errors = read_edit(
        {
            "severity": "info",
            "fix": "",
            "condition": {
                "procedure_codes": "9711, 97110",
                "modifier_missing": "GPX",
                "places_of_service": "1",
                "diagnosis_absent": "545",
                "units_over": "four",
                "rendering_npis": "1234567890",
                "prior_authorization_missing": "maybe",
            },
        }
    )
    assert draft is None
    assert set(errors) == {
        "severity",
        "fix",
        "procedure_codes",
        "modifier_missing",
        "places_of_service",
        "diagnosis_absent",
        "units_over",
        "rendering_npis",
        "prior_authorization_missing",
    }
    assert errors["procedure_codes"] == "9711 is not a 5-character CPT/HCPCS code"
    assert "check digit" in errors["rendering_npis"]
    assert "four" in errors["units_over"]


@pytest.mark.parametrize(
    ("condition", "field", "words"),
    [
        ({}, "", "the condition is empty"),
        ({"modifier_missing": "GP", "modifier_present": "gp"}, "modifier_present", "both"),
        ({"diagnosis_present": "M545", "diagnosis_absent": "M54.5"}, "diagnosis_absent", "M545"),
        ({"payer_id": "ACME"}, "", "unknown condition fields: payer_id"),
        ({"units_over": "-1"}, "units_over", "from 0"),
        ({"procedure_codes": {"a": 1}}, "procedure_codes", "a list of codes"),
    ],
)
def test_conditions_that_cannot_be_saved(condition: dict[str, Any], field: str, words: str) -> None:
    errors: dict[str, str] = {}
    assert read_condition(condition, errors) is None
    assert words in errors[field]


def test_the_condition_is_never_evaluated_as_code() -> None:
    """Text that looks like an expression is only ever a (refused) code."""
    errors: dict[str, str] = {}
    assert read_condition({"procedure_codes": "__import__('os').system('x')"}, errors) is None
    assert "procedure_codes" in errors


def test_describe_reads_as_a_sentence() -> None:
    condition = EditCondition(payer_ids=("ACME",), procedure_codes=("97110", "97140", "97112"))
    assert condition.describe() == "payer ACME, procedure 97110, 97140 or 97112"


def test_units_over_zero_is_a_condition_and_false_flags_are_not() -> None:
    assert EditCondition(units_over=Decimal(0)).named() == ["units_over"]
    assert EditCondition(prior_authorization_missing=False).named() == []
