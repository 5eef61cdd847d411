"""Running the product: the embedded all-in-one stack, or the worker and API on their own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.types import ASGIApp
from temporalio.client import Client

from api.prometheus import metrics_app
from api.routes.codec import CODEC_PATH
from app.http import create_app
from app.settings import Settings
from db.engine import make_engine
from denials.bootstrap import load_rulebook, prepare_database
from denials.demo import load_demo
from denials.embedded import DevServer, loopback_port
from denials.logs import configure_logging
from denials.payload_keys import payload_codec
from denials.temporal import connect, connect_when_up, ensure_search_attributes
from denials.ui_proxy import ReadOnlyWebUI, server_config
from denials.worker import build_worker
from domain.rulebook import Rulebook
from services.audit import AuditService
from services.cases import CaseService
from services.mailer import run_sender, sender_from_settings
from services.memory import limit_arenas
from services.users import UserService
from workflows.risk_retrain import ensure_retrain_schedule
from workflows.stopped_case_sweep import ensure_sweep_schedule

log = logging.getLogger("denials")


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: the stack decides when everything stops. Its
    `listening` event is set once it accepts connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening.set()


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _http_servers(
    settings: Settings, engine: Engine, client: Client, rulebook: Rulebook
) -> list[_Server]:
    """The app's server, and the metrics listener when DENIALS_METRICS_PORT is set."""
    app = create_app(settings, engine=engine, client=client, rulebook=rulebook)
    servers = [_Server(_server_config(settings, app, settings.http_port))]
    if settings.metrics_port is not None:
        registry = app.state.metrics_registry
        servers.append(
            _Server(_server_config(settings, metrics_app(registry), settings.metrics_port))
        )
    return servers


def _server_config(settings: Settings, app: ASGIApp, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=port,
        log_level="info",
        # api.prometheus logs each request by route template: uvicorn's own access log
        # writes the path and query string (claim numbers, searched names).
        access_log=False,
        # The app believes X-Forwarded-* from DENIALS_TRUSTED_PROXIES only (app.http).
        proxy_headers=False,
        # JSON logs: uvicorn's records go through the root handler like every other one.
        log_config=None if settings.json_logs else uvicorn.config.LOGGING_CONFIG,
    )


async def _when_started(servers: Sequence[_Server], on_ready: Callable[[], None]) -> None:
    await asyncio.gather(*(server.listening.wait() for server in servers))
    on_ready()


async def _until_stopped(
    stop: asyncio.Event, servers: Sequence[_Server], on_ready: Callable[[], None] | None
) -> None:
    """Serve until stopped, or until any server ends (then the others are stopped too).
    `on_ready` is called once every server listens."""
    serving = [asyncio.create_task(server.serve()) for server in servers]
    stopping = asyncio.create_task(stop.wait())
    announcing = asyncio.create_task(_when_started(servers, on_ready or (lambda: None)))
    await asyncio.wait({*serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    for server in servers:
        server.should_exit = True
    stopping.cancel()
    announcing.cancel()
    await asyncio.gather(*serving)


async def _run(
    settings: Settings,
    *,
    worker: bool,
    api: bool,
    demo: bool,
    on_ready: Callable[[], None] | None,
) -> None:
    stop = _stop_event()
    engine = prepare_database(settings)
    rulebook = load_rulebook(settings)
    dev_server: DevServer | None = None
    web_ui: ReadOnlyWebUI | None = None
    servers: list[_Server] = []
    # The embedded stack makes its own key on first start; separate processes must be given one.
    codec = payload_codec(settings, create_key_file=settings.temporal_address is None)
    try:
        if settings.temporal_address is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            dev_server = DevServer(
                db_file=settings.data_dir / "temporal.db",
                port=settings.temporal_port,
                ui_port=loopback_port(),  # users reach it read-only on temporal_ui_port
                namespace=settings.temporal_namespace,
                log_file=settings.data_dir / "temporal.log",
                ui_codec_endpoint=f"{settings.link_base}{CODEC_PATH}" if api else None,
            )
            dev_server.start()
            web_ui = ReadOnlyWebUI(dev_server.ui_url, public_url=settings.temporal_ui_base)
            # Users reach the UI on temporal_ui_port, read-only (denials.ui_proxy).
            servers.append(
                _Server(
                    server_config(web_ui, settings.temporal_ui_port, json_logs=settings.json_logs)
                )
            )
            log.info(
                "Temporal dev server starting on %s (Web UI, read-only, on port %s)",
                dev_server.address,
                settings.temporal_ui_port,
            )
            client = await dev_server.wait_ready(settings.temporal_namespace, codec)
        else:
            client = (
                await connect_when_up(
                    settings.temporal_address, settings.temporal_namespace, codec=codec
                )
                if worker
                else await connect(
                    settings.temporal_address, settings.temporal_namespace, codec=codec, lazy=True
                )
            )
        if worker:
            await ensure_search_attributes(client, settings.temporal_namespace)
            await ensure_sweep_schedule(client, settings.task_queue)
            await ensure_retrain_schedule(client, settings.task_queue)
        if demo:
            with Session(engine, expire_on_commit=False) as session:
                cases = CaseService(
                    session,
                    client,
                    rulebook,
                    settings.case_policy(),
                    settings.task_queue,
                    AuditService(session),
                )
                created = await load_demo(cases, UserService(session), datetime.now(UTC).date())
            log.info("Demo data loaded: %d new case(s)", created)
        if api:
            servers.extend(_http_servers(settings, engine, client, rulebook))
        if worker:
            # The worker writes through a pool of its own: requests waiting on their cases must
            # never hold the connections the worker needs to finish those cases.
            worker_engine = (
                make_engine(settings.effective_database_url, pool_size=settings.database_pool)
                if api
                else engine
            )
            log.info(
                "worker polling task queue '%s' of namespace '%s' at %s",
                settings.task_queue,
                settings.temporal_namespace,
                client.service_client.config.target_host,
            )
            with ThreadPoolExecutor(settings.worker_activity_threads) as executor:
                async with build_worker(
                    client,
                    settings.task_queue,
                    worker_engine,
                    rulebook,
                    executor,
                    pattern_thresholds=settings.pattern_thresholds(),
                    data_dir=settings.data_dir,
                    submitter=settings.submitter,
                    sandboxed=settings.workflow_sandbox,
                ):
                    # Notifications go with the worker (one per deployment usually; several
                    # are safe: services.mailer claims each e-mail).
                    notifier = asyncio.create_task(
                        run_sender(
                            sender_from_settings(worker_engine, settings),
                            settings.notify_every_seconds,
                        ),
                        name="notifications",
                    )
                    try:
                        await _until_stopped(stop, servers, on_ready)
                    finally:
                        notifier.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await notifier
                        worker_engine.dispose()
        else:
            await _until_stopped(stop, servers, on_ready)
    finally:
        if web_ui is not None:
            await web_ui.aclose()
        if dev_server is not None:
            dev_server.stop()
        engine.dispose()


def run(
    settings: Settings,
    *,
    worker: bool,
    api: bool,
    demo: bool = False,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run until Ctrl-C or SIGTERM; `on_ready` is called once the worker polls and every
    server listens."""
    limit_arenas()
    configure_logging(json_lines=settings.json_logs)
    asyncio.run(_run(settings, worker=worker, api=api, demo=demo, on_ready=on_ready))
