"""Priority score: amount x expected recovery x urgency / effort, with an explained breakdown."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from domain.categories import load_category_profiles
from domain.models import Category, WorkPath
from domain.priority import PriorityBreakdown, PriorityParams, load_priority_params, priority_score


@pytest.fixture(scope="module")
def params() -> PriorityParams:
    return load_priority_params(load_category_profiles())


def score(
    params: PriorityParams,
    *,
    amount: str = "1000",
    category: Category = Category.CODING,
    path: WorkPath = WorkPath.APPEAL,
    days_left: int | None = 60,
    adjustment: float = 1.0,
    reason: str = "",
) -> PriorityBreakdown:
    return priority_score(
        denied_amount=Decimal(amount),
        category=category,
        path=path,
        days_left=days_left,
        params=params,
        adjustment=adjustment,
        adjustment_reason=reason,
    )


def test_bigger_amount_ranks_higher(params: PriorityParams) -> None:
    """More dollars denied, all else equal, scores higher."""
    assert score(params, amount="5000").score > score(params, amount="4999").score


def test_higher_expected_recovery_ranks_higher(params: PriorityParams) -> None:
    """Coding (usually recovered) outranks medical necessity for the same amount and path."""
    assert (
        params.expected_recovery[Category.CODING]
        > params.expected_recovery[Category.MEDICAL_NECESSITY]
    )
    coding = score(params, category=Category.CODING)
    necessity = score(params, category=Category.MEDICAL_NECESSITY)
    assert coding.score > necessity.score


def test_nearer_deadline_ranks_higher(params: PriorityParams) -> None:
    """Fewer days to the deadline outranks more days (until it passes)."""
    ranked = [score(params, days_left=d).score for d in (1, 5, 10, 20, 60)]
    assert ranked == sorted(ranked, reverse=True)
    assert len(set(ranked)) == len(ranked)


def test_lower_effort_ranks_higher(params: PriorityParams) -> None:
    """A corrected claim (0.5 h) outranks an appeal (1.5 h) for the same case."""
    corrected = score(params, path=WorkPath.CORRECTED_CLAIM)
    appeal = score(params, path=WorkPath.APPEAL)
    assert corrected.score == pytest.approx(appeal.score * 3, rel=1e-3)


def test_passed_deadline_ranks_very_low(params: PriorityParams) -> None:
    """A passed deadline scores a tenth of a case with no time pressure, below far smaller cases."""
    passed = score(params, amount="10000", days_left=-1)
    relaxed = score(params, amount="10000", days_left=365)
    assert passed.factors[2].value == 0.1
    assert passed.score == pytest.approx(relaxed.score / 10)
    assert passed.score < score(params, amount="2000", days_left=365).score
    assert score(params, days_left=-400).factors[2].value == 0.1


@pytest.mark.parametrize(
    ("days_left", "factor", "label"),
    [
        (-1, 0.1, "deadline passed"),
        (0, 3.0, "2 days or less"),
        (2, 3.0, "2 days or less"),
        (3, 2.0, "7 days or less"),
        (7, 2.0, "7 days or less"),
        (8, 1.5, "14 days or less"),
        (14, 1.5, "14 days or less"),
        (15, 1.2, "30 days or less"),
        (30, 1.2, "30 days or less"),
        (31, 1.0, "more than 30 days"),
        (None, 1.0, "more than 30 days"),
    ],
)
def test_urgency_band_boundaries(
    days_left: int | None, factor: float, label: str, params: PriorityParams
) -> None:
    """Each band includes its upper day count; the next day falls in the next band."""
    band = params.urgency_for(days_left)
    assert (band.factor, band.label) == (factor, label)
    urgency = score(params, days_left=days_left).factors[2]
    deadline_text = "no deadline" if days_left is None else f"{days_left} days to the deadline"
    assert urgency.explanation == f"{deadline_text} ({label})"


def test_breakdown_factors_and_score_is_their_product(params: PriorityParams) -> None:
    """Factors: amount, recovery, urgency, effort; score = amount x recovery x urgency / effort."""
    result = score(
        params,
        amount="1234.56",
        category=Category.AUTHORIZATION,
        path=WorkPath.APPEAL,
        days_left=5,
    )
    assert [(f.name, f.value) for f in result.factors] == [
        ("denied amount", 1234.56),
        ("expected recovery", 0.45),
        ("urgency", 2.0),
        ("effort", 1.5),
    ]
    amount, recovery, urgency, effort = (f.value for f in result.factors)
    assert result.score == round(amount * recovery * urgency / effort, 2)
    assert result.score == 740.74
    assert result.factors[1].explanation == "share usually recovered for authorization"
    assert result.summary() == (
        "denied amount 1234.56 x expected recovery 0.45 x urgency 2 x effort 1.5 = 740.74"
    )


def test_supervisor_adjustment_appears_as_a_factor(params: PriorityParams) -> None:
    """A supervisor's adjustment multiplies the score and is shown with its reason."""
    base = score(params, amount="1000", days_left=60)
    raised = score(params, amount="1000", days_left=60, adjustment=2.5, reason="VIP account")
    assert len(base.factors) == 4
    assert raised.factors[:4] == base.factors
    assert raised.factors[4].name == "supervisor adjustment"
    assert raised.factors[4].value == 2.5
    assert raised.factors[4].explanation == "VIP account"
    assert raised.score == round(base.score * 2.5, 2)
    product = math.prod(f.value for f in raised.factors if f.name != "effort")
    assert raised.score == round(product / raised.factors[3].value, 2)
    unexplained = score(params, adjustment=0.5)
    assert unexplained.factors[-1].explanation == "set by a supervisor"
