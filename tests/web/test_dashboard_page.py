"""The dashboard page shows each KPI's numerator and denominator: the write-off rate's as
dollars."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from domain.kpis import CaseTotals, ClaimFact, kpis, load_targets
from services.analytics import Dashboard, Period, Section
from web.routes.dashboard import charts
from web.templating import templates


def test_the_write_off_card_shows_dollars_given_up_of_dollars_charged() -> None:
    claims = [ClaimFact(is_denial=True, count=3, billed_amount=Decimal("5500.50"))]
    written_off = CaseTotals(
        appealed_closed=0, overturned=0, given_up=Decimal(1000), days_to_first_action=None,
        days_to_resolution=None,
    )  # fmt: skip
    board = Dashboard(
        period=Period(since=date(2026, 3, 1), until=date(2026, 5, 29)),
        as_of=date(2026, 6, 1),
        kpis=kpis(claims, written_off, load_targets()),
        by_category=[],
        by_carc=[],
        by_payer_month=[],
        by_provider=[],
        at_risk=[],
    )
    html = templates.env.get_template("dashboard.html").render(
        request=SimpleNamespace(url=SimpleNamespace(path="/dashboard")),
        url_for=lambda name, path: f"/{name}/{path}",
        user=None,
        board=board,
        charts=charts(board),
        sections=list(Section),
        errors=[],
        since="2026-03-01",
        until="2026-05-29",
    )
    assert "3 / 3" in html  # the denial rate: claims
    assert "$1,000.00 of $5,500.50" in html  # the write-off rate: dollars
