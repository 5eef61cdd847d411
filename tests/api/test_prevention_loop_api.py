"""The prevention loop on the dashboard and in the API (issue 18): checked claims whose 835
arrived give the clean-claim rate, predicted against actual denial rate per band, and what the
prevention edits caught; the figures are the stored facts', not a page that merely renders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.claim_checks.findings import (
    ClaimCheckResult,
    Finding,
    FindingKind,
    Severity,
)
from domain.rulebook import Rulebook
from tests.api.conftest import Api, as_user
from tests.db.test_check_outcomes import checked_claim, denied, paid, remit, store_checks
from tests.login_form import post_login

EDIT = Finding(
    kind=FindingKind.PREVENTION_EDIT,
    severity=Severity.BLOCK,
    code="edit-1@v1",
    message="97110 without modifier GP",
    evidence="edit 1",
    fix="add GP",
    line_number=1,
)
RISK = Finding(
    kind=FindingKind.LEARNED_RISK,
    severity=Severity.WARN,
    code="model-1",
    message="likely denied",
    evidence="payer history",
    fix="look",
)


def store_run(api: Api, claims: list[tuple[str, float, tuple[Finding, ...]]]) -> None:
    """One check run, made now, of these (claim number, probability, findings)."""
    results = [
        (
            ClaimCheckResult(
                claim_id=claim_id,
                payer_id="SHP01",
                line_count=1,
                denial_probability=probability,
                findings=findings,
            ),
            checked_claim(claim_id, "SHP01"),
        )
        for claim_id, probability, findings in claims
    ]
    store_checks(api.harness.engine, datetime.now(UTC), results)


async def test_the_loop_shows_what_the_checks_predicted_and_the_payer_said(
    api: Api, rulebook: Rulebook
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    blocked_sent, risky, safe, unanswered = (f"{tag}{n}" for n in range(4))
    store_run(
        api,
        [
            (blocked_sent, 0.92, (EDIT, RISK)),  # an edit blocked it; sent anyway, denied
            (risky, 0.81, (RISK,)),  # paid after all
            (safe, 0.05, ()),  # paid
            (unanswered, 0.5, (EDIT,)),  # blocked, never sent: no answer
        ],
    )
    today = datetime.now(UTC).date()
    remit(api.harness.engine, rulebook, "SHP01", denied(blocked_sent), control=11, on=today)
    remit(api.harness.engine, rulebook, "SHP01", paid(risky), control=12, on=today)
    remit(api.harness.engine, rulebook, "SHP01", paid(safe), control=13, on=today)

    answer = await api.http.get(
        "/api/v1/metrics/prevention-loop",
        params={"since": today.isoformat(), "until": today.isoformat()},
        headers=as_user("sam"),
    )
    assert answer.status_code == 200, answer.text
    loop = answer.json()
    assert (loop["answered"], loop["clean_first_pass"], loop["scored"]) == (3, 2, 3)
    assert round(loop["mean_predicted"], 4) == round((0.92 + 0.81 + 0.05) / 3, 4)
    assert [(b["label"], b["claims"], b["denied_share"]) for b in loop["bands"]] == [
        ("0%-10%", 1, 0.0),
        ("80%-90%", 1, 0.0),
        ("90%-100%", 1, 1.0),
    ]
    assert loop["edits"] == {
        "blocked": 2,
        "warned": 0,
        "flagged_then_denied": 1,
        "flagged_then_paid": 0,
    }

    assert (await post_login(api.http, {"username": "sam", "password": "demo"})).status_code == 303
    dashboard = await api.http.get("/dashboard")
    assert 'hx-get="/dashboard/prevention-loop?since=' in dashboard.text
    fragment = await api.http.get(
        "/dashboard/prevention-loop",
        params={"since": today.isoformat(), "until": today.isoformat()},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "66.7%" in fragment.text  # 2 of 3 clean
    assert "2 of 3 answered checked claims" in fragment.text and "2 blocked" in fragment.text
    assert "<svg" in fragment.text and "90%-100%" in fragment.text
    page = await api.http.get("/dashboard/prevention-loop", params={"since": "soon"})
    assert page.status_code == 422 and "<html" in page.text and "is not a date" in page.text
