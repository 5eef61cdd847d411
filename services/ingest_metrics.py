"""Process counters of the ingest pipeline, exposed at GET /metrics (prometheus-client).

Counters live in the process that does the work (the API for uploads); what the read model
already knows (cases, tasks, escalations) is measured from it at scrape time instead.
"""

from __future__ import annotations

from prometheus_client import Counter

INGESTED_FILES = Counter(
    "denials_ingest_files",
    "X12 files ingested by this process, by kind and outcome (incomplete: Temporal was "
    "unreachable, the file is kept for a retry)",
    ["kind", "status"],
)
INGEST_ERRORS = Counter(
    "denials_ingest_errors",
    "Errors found in ingested X12 files (each named in the file's report)",
    ["kind"],
)
INGEST_CASES_STARTED = Counter("denials_ingest_cases_started", "Cases opened by ingested files")


def record_ingest(kind: str | None, status: str, errors: int, cases_started: int) -> None:
    INGESTED_FILES.labels(kind=kind or "unknown", status=status).inc()
    if errors:
        INGEST_ERRORS.labels(kind=kind or "unknown").inc(errors)
    if cases_started:
        INGEST_CASES_STARTED.inc(cases_started)
