"""GET /metrics: read-model gauges at scrape time, ingest counters, API latency by route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from db.models import CaseEventRow, TaskRow
from testkit.records import make_record
from tests.api.conftest import Api, as_user
from tests.ingest_helpers import GARBAGE


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_metrics_count_cases_tasks_escalations_ingests_and_latency(api: Api) -> None:
    before = await scrape(api)
    failed_before = before.get(
        ("denials_ingest_files_total", (("kind", "unknown"), ("status", "failed"))), 0.0
    )
    today = (await api.harness.now()).date()
    case_id, detail = await api.opened_triaged(make_record(today))
    task = Api.open_task(detail, "confirm_triage")
    with Session(api.harness.engine) as session:
        row = session.get(TaskRow, task["task_id"])
        assert row is not None
        row.due_at = datetime.now(UTC) - timedelta(hours=1)  # make it overdue
        session.add(row)
        session.add(
            CaseEventRow(
                event_id=f"{case_id}-esc",
                case_id=case_id,
                seq=999,
                at=datetime.now(UTC),
                type="escalated",
                actor="system",
                message="Escalated to supervisors",
            )
        )
        session.commit()
        seen_events = session.exec(select(CaseEventRow.type)).all()
    upload = await api.http.post(
        "/api/v1/ingest",
        files=[("files", ("scan.txt", GARBAGE, "application/octet-stream"))],
        headers=as_user("alice"),
    )
    assert upload.status_code == 200, upload.text

    figures = await scrape(api)
    assert figures[("denials_cases", (("status", "triaged"),))] == 1
    assert figures[("denials_open_tasks", (("queue", task["queue"]),))] == 1
    assert figures[("denials_overdue_tasks", (("queue", task["queue"]),))] == 1
    escalated = figures[("denials_escalations_total", (("level", "escalated"),))]
    assert escalated == seen_events.count("escalated") >= 1
    assert ("denials_escalations_total", (("level", "urgent"),)) in figures
    assert figures[("denials_ingest_files_stored", (("status", "failed"),))] == 1
    failed = ("denials_ingest_files_total", (("kind", "unknown"), ("status", "failed")))
    assert figures[failed] == failed_before + 1
    assert figures[("denials_ingest_errors_total", (("kind", "unknown"),))] >= 1

    # Latency by route template: the case id is not a label value.
    count = (
        "denials_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/v1/cases/{case_id}")),
    )
    assert figures[count] >= 1
    assert not any(case_id in str(labels) for _, labels in figures)
    requests = (
        "denials_http_requests_total",
        (("method", "POST"), ("route", "/api/v1/ingest"), ("status", "200")),
    )
    assert figures[requests] == 1
