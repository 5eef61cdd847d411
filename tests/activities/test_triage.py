"""Triage of a parsed 835 claim: the payer rule in force can withhold appeal rights."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from activities.triage import TriageActivities
from domain.models import Category, PayerType, WorkPath
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from services.payer_rules import PayerRuleStore
from testkit.x12 import Claim835, Line835
from tests.ingest_helpers import remittance_file
from workflows.messages import TriageRequest, TriageResult

TODAY = date(2026, 5, 4)


def triage_835(engine: Engine, rulebook: Rulebook, filing_indicator: str) -> TriageResult:
    """Parse an 835 denying one claim CO-29 (timely filing) under CLP06 `filing_indicator`
    and triage its case as the worker does."""
    served = TODAY - timedelta(days=400)
    late = Claim835(
        "PCN-LATE",
        status="4",
        filing_indicator=filing_indicator,
        lines=[Line835(billed=250, paid=0, cas=[("CO", "29", 250)], service_date=served)],
    )
    [case] = parse_bytes("late.835", remittance_file(TODAY, late), rulebook).cases
    activities = TriageActivities(rulebook, PayerRuleStore(engine))
    return activities.triage_case(TriageRequest(record=case.record, received_on=TODAY))


def test_medicare_part_b_timely_filing_denial_goes_to_write_off_review(
    sqlite_engine: Engine, rulebook: Rulebook
) -> None:
    """CLP06 MB (Medicare Part B) with CO-29: no appeal rights (42 CFR 424.44), so an appeal
    is refused and the case is suggested for write-off review."""
    result = triage_835(sqlite_engine, rulebook, "MB")
    classification = result.classification
    assert result.rule.id == "medicare-ffs"
    assert classification.category is Category.TIMELY_FILING
    assert classification.denied_amount == Decimal(250)
    assert classification.appeal_rights is False
    assert classification.suggested_path is WorkPath.WRITE_OFF_REVIEW
    assert "42 CFR 424.44" in classification.no_appeal_reason
    assert classification.no_appeal_reason in classification.reasons


def test_commercial_timely_filing_denial_keeps_its_appeal_rights(
    sqlite_engine: Engine, rulebook: Rulebook
) -> None:
    """CLP06 CI (commercial) with CO-29: overturnable with proof of timely submission, so it
    is appealed."""
    result = triage_835(sqlite_engine, rulebook, "CI")
    assert result.rule.payer_type is PayerType.COMMERCIAL
    assert result.classification.appeal_rights is True
    assert result.classification.suggested_path is WorkPath.APPEAL
    assert result.classification.no_appeal_reason == ""
