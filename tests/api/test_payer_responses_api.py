"""POST /cases/{id}/payer-responses: an answer typed in outside a task is checked as the
task's Update checks it, a payment counts once, and a payment on a written-off case shrinks its
write-off."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from testkit.records import adj, make_record
from tests.api.conftest import Api, Json, as_user, problem
from tests.harness import CaseHarness

ALICE = as_user("alice")


async def complete(api: Api, task_id: str, payload: Json, user: str = "alice") -> httpx.Response:
    return await api.http.post(
        f"/api/v1/tasks/{task_id}/complete", json={"payload": payload}, headers=as_user(user)
    )


async def post_answer(api: Api, case_id: str, **answer: object) -> httpx.Response:
    return await api.http.post(
        f"/api/v1/cases/{case_id}/payer-responses", json=answer, headers=ALICE
    )


async def awaiting_payer(api: Api, harness: CaseHarness, billed: int) -> str:
    """A case whose corrected claim went out: it awaits the payer."""
    today = await harness.today()
    case_id, detail = await api.opened_triaged(
        make_record(today, adjustments=[adj("CO-16", billed)], billed=billed)
    )
    for task_type, payload in (
        ("confirm_triage", {"type": "confirm_triage"}),
        ("confirm_root_cause", {"type": "confirm_root_cause"}),
        (
            "prepare_corrected_claim",
            {
                "type": "prepare_corrected_claim",
                "corrections": "added the referring NPI",
                "submitted_on": today.isoformat(),
            },
        ),
    ):
        task = api.open_task(detail, task_type)["task_id"]
        done = await complete(api, task, payload)
        assert done.status_code == 200, done.text
        detail = await api.detail(case_id)
    assert detail["summary"]["status"] == "awaiting_payer"
    return case_id


async def test_payment_signal_closes_awaiting_case(api: Api, harness: CaseHarness) -> None:
    """The payer-responses Signal answers 202 and the case closes recovered; an answer that
    is not a decision is refused by the schema."""
    today = (await harness.today()).isoformat()
    case_id = await awaiting_payer(api, harness, 400)
    response = await post_answer(
        api, case_id, decision="paid", paid_amount="400", decision_date=today, reference="EFT1"
    )
    assert response.status_code == 202
    assert response.json() == {"case_id": case_id, "status": "accepted"}
    closed = await api.wait_status(case_id, "closed")
    assert closed["summary"]["outcome"] == "recovered"
    assert Decimal(closed["summary"]["recovered_amount"]) == Decimal(400)
    record_task = next(t for t in closed["tasks"] if t["type"] == "record_payer_response")
    assert record_task["status"] == "completed"

    invalid = await post_answer(api, case_id, decision="maybe", decision_date=today)
    assert invalid.status_code == 422


async def test_the_same_payment_posted_twice_counts_once(api: Api, harness: CaseHarness) -> None:
    """One $500 partial payment of a $1,000 denial entered twice: the second is refused (409)
    and the case has recovered $500, not $1,000. A payment needs its reference; nothing paid
    is no payment; 'accepted' answers only a rejection."""
    today = (await harness.today()).isoformat()
    case_id = await awaiting_payer(api, harness, 1000)
    unnamed = await post_answer(
        api, case_id, decision="partially_paid", paid_amount="500", decision_date=today
    )
    assert "needs its reference" in problem(unnamed)
    nothing = await post_answer(
        api, case_id, decision="paid", paid_amount="0", decision_date=today, reference="CHK0"
    )
    assert "above 0" in problem(nothing)
    accepted = await post_answer(api, case_id, decision="accepted", decision_date=today)
    assert "answers a resubmitted rejection" in problem(accepted)

    payment = {
        "decision": "partially_paid",
        "paid_amount": "500",
        "decision_date": today,
        "reference": "CHK-7731",
    }
    assert (await post_answer(api, case_id, **payment)).status_code == 202
    review = await api.wait_status(case_id, "write_off_review")
    again = await post_answer(api, case_id, **payment)
    assert again.status_code == 409
    assert "CHK-7731 is already recorded" in again.json()["detail"]
    detail = await api.detail(case_id)
    assert Decimal(detail["summary"]["recovered_amount"]) == Decimal(500)
    assert len(detail["timeline"]) == len(review["timeline"])  # nothing happened


async def test_payment_posted_on_a_written_off_case_is_a_late_payment(
    api: Api, harness: CaseHarness
) -> None:
    """A case closed written off takes a payment posted later: its write-off shrinks."""
    today = await harness.today()
    case_id, detail = await api.opened_triaged(
        make_record(today, adjustments=[adj("CO-50", 300)], billed=300)
    )
    for task_type, payload, user in (
        ("confirm_triage", {"type": "confirm_triage", "path": "write_off_review"}, "alice"),
        ("confirm_root_cause", {"type": "confirm_root_cause"}, "alice"),
        ("approve_write_off", {"type": "approve_write_off", "approve": True, "reason": "x"}, "sam"),
    ):
        done = await complete(api, api.open_task(detail, task_type)["task_id"], payload, user)
        assert done.status_code == 200, done.text
        detail = await api.detail(case_id)
    await api.wait_status(case_id, "closed")

    late = {"decision": "paid", "paid_amount": "300", "decision_date": str(today), "reference": "L"}
    assert (await post_answer(api, case_id, **late)).status_code == 202
    for _ in range(200):
        summary = (await api.detail(case_id))["summary"]
        if summary["outcome"] == "recovered":
            break
        await asyncio.sleep(0.05)
    assert (summary["status"], Decimal(summary["recovered_amount"])) == ("closed", Decimal(300))
    again = await post_answer(api, case_id, **late)
    assert again.status_code == 409
