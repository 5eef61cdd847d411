"""Prometheus metrics at GET /metrics: the read model's figures computed at scrape time (a few
grouped counts on indexed columns, so a scrape stays cheap), API latency per route template,
and the process's own counters (ingests, Python runtime).

Each app has its own registry for what depends on its database; the process-wide registry
holds the counters the services increment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.operations import read_model_counts
from domain.escalation import ANNOUNCEMENTS
from domain.workflow_stops import StopStatus

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

router = APIRouter()


access_log = logging.getLogger("denials.access")


class ReadModelCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("denials_cases", "Cases by status", labels=["status"]),
            GaugeMetricFamily("denials_open_tasks", "Open human tasks", labels=["queue"]),
            GaugeMetricFamily(
                "denials_overdue_tasks", "Open tasks past their due time", labels=["queue"]
            ),
            CounterMetricFamily(
                "denials_escalations", "Escalations fired, by level", labels=["level"]
            ),
            GaugeMetricFamily(
                "denials_ingest_files_stored", "X12 files kept, by outcome", labels=["status"]
            ),
            GaugeMetricFamily(
                "denials_stopped_case_workflows",
                "Open cases whose workflow was stopped outside the product, by how",
                labels=["status"],
            ),
        )

    def describe(self) -> Iterator[Metric]:
        """What collect() yields, without reading the database: registering the collector
        (at start-up) must not need it, so the API starts while the database is down."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        cases, open_tasks, overdue, escalations, ingests, stopped = self._families()
        with Session(self._engine) as session:
            counts = read_model_counts(session, datetime.now(UTC), ANNOUNCEMENTS)
        for status, count in counts.cases_by_status.items():
            cases.add_metric([status], count)
        for queue, count in counts.open_tasks_by_queue.items():
            open_tasks.add_metric([queue], count)
        for queue, count in counts.overdue_tasks_by_queue.items():
            overdue.add_metric([queue], count)
        for level in ANNOUNCEMENTS:
            escalations.add_metric([level], counts.events_by_type.get(level, 0))
        for status, count in counts.ingest_files_by_status.items():
            ingests.add_metric([status], count)
        # Every status, zero included: an alert rule can watch the series before any stop.
        for how in StopStatus:
            stopped.add_metric([how.value], counts.open_stops_by_status.get(how.value, 0))
        yield from (cases, open_tasks, overdue, escalations, ingests, stopped)


class RequestMetrics:
    """ASGI middleware timing every HTTP request under its route template (/cases/{case_id},
    never the concrete path: bounded label values, and no identifiers in the metrics), and
    writing the access log line the same way: `GET /api/v1/cases/{case_id} 200 12ms`. Paths and
    query strings carry claim numbers and searched names; uvicorn's own access log, which
    writes them, is off."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self._app = app
        self._latency = Histogram(
            "denials_http_request_duration_seconds",
            "HTTP request latency by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._requests = Counter(
            "denials_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_status)
        finally:
            route = scope.get("route")  # the router records the route it matched in the scope
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            elapsed = time.perf_counter() - started
            self._latency.labels(template, method).observe(elapsed)
            self._requests.labels(template, method, str(status)).inc()
            access_log.info("%s %s %d %.0fms", method, template, status, elapsed * 1000)


def app_registry(engine: Engine) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(ReadModelCollector(engine))
    return registry


def exposition(registry: CollectorRegistry) -> Response:
    """Prometheus text exposition; unauthenticated like /healthz (figures only, no PHI): keep
    it reachable from the monitoring network only."""
    body = generate_latest(registry) + generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """On the app's own port (DENIALS_METRICS_PORT unset)."""
    return exposition(request.app.state.metrics_registry)


def metrics_app(registry: CollectorRegistry) -> Starlette:
    """GET /metrics alone, for its own listener (DENIALS_METRICS_PORT): a port that is never
    published, while the app's port faces users."""

    async def scrape(_: Request) -> Response:
        # The read-model figures are database queries: off the event loop, as FastAPI would.
        return await run_in_threadpool(exposition, registry)

    return Starlette(routes=[Route("/metrics", scrape, methods=["GET"])])
