"""The new rule version's form turned into the API's rule document: empty fields left to the
base rule, every problem keyed by its field, and the rule store's refusals put beside the
field they are about."""

from __future__ import annotations

from typing import Any

from web.rule_form import form_values, located_problems, rule_document


def document(**typed: str) -> tuple[dict[str, Any], dict[str, str]]:
    return rule_document(form_values(typed))


def test_a_full_version_becomes_the_apis_document() -> None:
    raw, errors = document(
        rule_id="acme-2027",
        payer_type="commercial",
        effective_from="2027-01-01",
        source="manual",
        timely_filing_count="12",
        timely_filing_unit="months",
        corrected_claim_count="90",
        corrected_claim_decision_days="45",
        presumed_receipt_days="5",
        rolls_to_business_day="no",
        level_1_name="Reconsideration",
        level_1_filing_days="90",
        level_1_decision_days="30",
        level_2_name="Review",
        level_2_filing_days="60",
        level_2_minimum_in_dispute="180.00",
        no_appeal_rights="29: manual §4\n\n 96 : manual §5 ",
    )
    assert errors == {}
    assert raw == {
        "id": "acme-2027",
        "payer_type": "commercial",
        "effective_from": "2027-01-01",
        "source": "manual",
        "timely_filing": {"months": 12},
        "corrected_claim": {"days": 90, "decision_days": 45},
        "presumed_receipt_days": 5,
        "rolls_to_business_day": False,
        "appeal_levels": [
            {"level": 1, "name": "Reconsideration", "filing_days": 90, "decision_days": 30},
            {"level": 2, "name": "Review", "filing_days": 60, "minimum_in_dispute": "180.00"},
        ],
        "no_appeal_rights": [
            {"carc": "29", "citation": "manual §4"},
            {"carc": "96", "citation": "manual §5"},
        ],
    }


def test_empty_fields_are_left_to_the_base_rule() -> None:
    raw, errors = document(
        rule_id="acme-2027",
        based_on="commercial-erisa",
        payer_id="ACME1",
        effective_from="2027-01-01",
    )
    assert errors == {}
    assert raw == {
        "id": "acme-2027",
        "based_on": "commercial-erisa",
        "payer_id": "ACME1",
        "effective_from": "2027-01-01",
    }


def test_every_problem_is_keyed_by_its_field() -> None:
    _, errors = document(
        corrected_claim_decision_days="30",
        presumed_receipt_days="-1",
        level_1_filing_days="90",
        level_2_name="Second",
        level_2_filing_days="60",
        no_appeal_rights="29 manual",
    )
    assert errors == {
        "rule_id": "give the version an id, such as acme-2027",
        "payer_id": "give either a payer id or a payer type (its default rule)",
        "effective_from": "give the day the version takes effect",
        "source": "say where the rule comes from, such as the payer's manual section",
        "corrected_claim_count": "give the window too: it replaces the base's whole",
        "presumed_receipt_days": "a whole number of days, such as 90",
        "level_1_name": "give the level's name, such as Reconsideration",
        "no_appeal_rights": "'29 manual': write each as CARC: citation, such as 96: §4",
    }


def test_the_stores_refusals_go_beside_their_fields() -> None:
    message = (
        "new rule from ada: rule 'acme-2027': appeal_levels.1.filing_days: Input should be "
        "greater than or equal to 1; effective_from: Input should be a valid date; "
        "rule: Value error, appeal levels must be numbered 1..n in order, got [1, 3]"
    )
    assert located_problems(message) == {
        "level_2_filing_days": "must be at least 1",
        "effective_from": "give a date as YYYY-MM-DD",
        "": "appeal levels must be numbered 1..n in order, got [1, 3]",
    }
    unknown = (
        "new rule from ada: rule 'acme' is based on unknown rule 'x' (a base must come earlier)"
    )
    assert located_problems(unknown) == {
        "": "rule 'acme' is based on unknown rule 'x' (a base must come earlier)"
    }
