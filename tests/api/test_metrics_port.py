"""DENIALS_METRICS_PORT (issue 16, item 8): /metrics leaves the app's port for a listener of its
own, which serves the same figures and nothing else."""

from __future__ import annotations

from pathlib import Path

import httpx
import temporalio.client
from sqlalchemy.engine import Engine

from api.prometheus import metrics_app
from app.http import create_app
from app.settings import Settings
from domain.rulebook import Rulebook


async def test_metrics_move_to_their_own_listener(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook
) -> None:
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(
        Settings(data_dir=tmp_path, metrics_port=9100),
        engine=sqlite_engine,
        client=client,
        rulebook=rulebook,
    )
    metrics = metrics_app(app.state.metrics_registry)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as web,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=metrics), base_url="http://m") as m,
    ):
        assert (await web.get("/healthz")).status_code == 200
        assert (await web.get("/metrics")).status_code == 404
        scraped = await m.get("/metrics")
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        assert "# TYPE denials_cases gauge" in scraped.text
        assert "# TYPE python_info gauge" in scraped.text  # the process-wide registry too
        assert (await m.get("/healthz")).status_code == 404
        assert (await m.post("/metrics")).status_code == 405


async def test_unset_keeps_metrics_on_the_app_port(
    sqlite_engine: Engine, tmp_path: Path, rulebook: Rulebook
) -> None:
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(
        Settings(data_dir=tmp_path), engine=sqlite_engine, client=client, rulebook=rulebook
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://a"
    ) as web:
        scraped = await web.get("/metrics")
    assert scraped.status_code == 200 and "# TYPE denials_cases gauge" in scraped.text
