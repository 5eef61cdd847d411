"""Rule checks before submission: timely filing, prior authorization, replacement claims and
what gets a claim rejected unprocessed."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from domain.claim_checks.findings import ClaimUnderCheck, FindingKind, Severity
from domain.claim_checks.rules import duplicate_findings, npi_is_valid, rule_findings
from domain.payer_rules import PayerRuleRegistry, load_registry, parse_rules, rule_documents
from testkit.claims837 import SERVED, one_line_claim


def _registry(**extra: object) -> PayerRuleRegistry:
    later = {
        "rule": [
            {
                "id": "acme-2025",
                "payer_id": "60054",
                "based_on": "commercial-erisa",
                "effective_from": date(2025, 1, 1),
                "source": "Acme precertification list",
                **extra,
            }
        ]
    }
    return PayerRuleRegistry(parse_rules([*rule_documents(), ("acme.toml", later)]))


def _claim(**changes: object) -> ClaimUnderCheck:
    return one_line_claim(
        code="70551", payer_name="", charge=Decimal(500), diagnosis="R51.9", **changes
    )


def _codes(findings: list) -> list[str]:
    return [finding.code for finding in findings]


def test_a_clean_claim_has_no_finding() -> None:
    assert rule_findings(_claim(), load_registry(), date(2025, 3, 10)) == []


@pytest.mark.parametrize(
    ("submitted", "codes", "severity"),
    [
        (date(2025, 5, 17), [], None),  # commercial: 90 days -> due 2025-06-01, 15 days left
        (date(2025, 5, 18), ["timely_filing.lapsing"], Severity.WARN),  # 14 days left
        (date(2025, 6, 1), ["timely_filing.lapsing"], Severity.WARN),  # the last day
        (date(2025, 6, 2), ["timely_filing.passed"], Severity.BLOCK),
    ],
)
def test_timely_filing_at_the_submission_date(
    submitted: date, codes: list[str], severity: Severity | None
) -> None:
    findings = rule_findings(_claim(), load_registry(), submitted)
    assert _codes(findings) == codes
    if severity is not None:
        assert findings[0].severity is severity
        assert "2025-06-01" in findings[0].evidence and "90 days" in findings[0].evidence


def test_medicare_counts_twelve_months_and_says_a_late_claim_has_no_appeal() -> None:
    medicare = _claim(payer_id="00430", filing_indicator="MB")
    assert rule_findings(medicare, load_registry(), date(2026, 3, 3)) != []
    assert _codes(rule_findings(medicare, load_registry(), date(2026, 2, 10))) == []
    (late,) = rule_findings(medicare, load_registry(), date(2026, 3, 4))
    assert late.code == "timely_filing.passed" and "cannot be appealed" in late.evidence


def test_an_institutional_claim_counts_from_the_through_date() -> None:
    stay = _claim(kind="institutional", service_date_to=date(2025, 3, 20))
    assert _codes(rule_findings(stay, load_registry(), date(2025, 6, 10))) == [
        "timely_filing.lapsing"
    ]  # due 2025-06-18


def test_a_replacement_is_not_held_to_the_original_filing_limit() -> None:
    late = _claim(frequency_code="7", original_reference="ICN9")
    assert rule_findings(late, load_registry(), date(2025, 9, 1)) == []


def test_a_marked_code_without_prior_authorization_blocks_its_line() -> None:
    registry = _registry(prior_authorization_codes=["70551"])
    (finding,) = rule_findings(_claim(), registry, date(2025, 3, 10))
    assert (finding.code, finding.severity, finding.line_number) == (
        "prior_authorization.missing",
        Severity.BLOCK,
        1,
    )
    assert finding.kind is FindingKind.RULE
    assert "acme-2025" in finding.evidence and "CO-197" in finding.evidence
    assert rule_findings(_claim(prior_authorization="AUTH1"), registry, date(2025, 3, 10)) == []
    other_payer = _claim(payer_id="87726")
    assert rule_findings(other_payer, registry, date(2025, 3, 10)) == []


def test_a_prior_authorization_list_takes_effect_on_its_date() -> None:
    registry = _registry(prior_authorization_codes=["70551"], effective_from=date(2025, 4, 1))
    assert rule_findings(_claim(), registry, date(2025, 3, 10)) == []  # served before it


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_a_replacement_or_void_needs_the_original_reference(frequency: str) -> None:
    (finding,) = rule_findings(_claim(frequency_code=frequency), load_registry(), date(2025, 3, 10))
    assert finding.code == "frequency.original_reference_missing"
    assert finding.severity is Severity.BLOCK and "REF*F8" in finding.fix


def test_what_gets_a_claim_rejected_unprocessed() -> None:
    line = (
        _claim()
        .lines[0]
        .model_copy(update={"diagnosis_codes": (), "service_date": date(2025, 4, 1)})
    )
    claim = _claim(
        billing_npi="1234567890", rendering_npi="12345", lines=(line,), total_charge=Decimal(400)
    )
    findings = rule_findings(claim, load_registry(), date(2025, 3, 10))
    assert sorted(_codes(findings)) == [
        "charges.total_mismatch",
        "line.no_diagnosis",
        "npi.invalid",
        "npi.invalid",
        "service_date.future",
    ]
    assert all(f.severity is Severity.BLOCK for f in findings)
    institutional = _claim(
        kind="institutional", lines=(line.model_copy(update={"service_date": SERVED}),)
    )
    assert rule_findings(institutional, load_registry(), date(2025, 3, 10)) == []


def test_npi_check_digit() -> None:
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678A3")


def test_the_second_copy_of_an_original_in_a_batch_is_a_duplicate() -> None:
    claims = [
        _claim(),
        _claim(claim_id="PCN2"),
        _claim(),
        _claim(frequency_code="7", original_reference="X"),
    ]
    found = duplicate_findings(claims)
    assert list(found) == [2]
    assert found[2][0].code == "duplicate.in_batch" and found[2][0].severity is Severity.WARN


def test_a_duplicate_is_found_across_chunks_of_one_file() -> None:
    seen: Counter[tuple[str, str, str]] = Counter()
    assert duplicate_findings([_claim()], seen) == {}
    assert list(duplicate_findings([_claim(claim_id="PCN2"), _claim()], seen)) == [1]
