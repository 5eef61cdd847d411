"""The embedded Temporal Web UI is read-only: the real dev server's UI behind the proxy, with a
running workflow. Each refusal is checked against the same request sent straight to the dev
server's own UI, where it works: what the proxy refuses is a real write."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright, expect
from temporalio import workflow
from temporalio.api.enums.v1 import EventType, WorkflowExecutionStatus
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from denials.embedded import DevServer, loopback_port
from denials.ui_proxy import (
    BAD_PATH,
    DISABLED_SETTINGS,
    MISDIRECTED,
    REFUSAL,
    ReadOnlyWebUI,
    server_config,
)
from testkit.processes import free_port
from tests.web.stack import CHROMIUM, CHROMIUM_ARGS, MISSING_CHROMIUM

TASK_QUEUE = "web-ui-test"
NS = "/api/v1/namespaces/default"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

PAGE_LOAD_MS = 30_000


@workflow.defn(name="WaitsForever")
class WaitsForever:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # leave Ctrl-C to pytest


@dataclass
class WebUI:
    client: Client
    proxied: str  # what users reach
    direct: str  # the dev server's own UI, write actions on

    async def start(self) -> WorkflowHandle[WaitsForever, None]:
        return await self.client.start_workflow(
            WaitsForever.run, id=f"ui-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE
        )


@pytest.fixture(scope="module")
async def web_ui(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebUI]:
    root = tmp_path_factory.mktemp("web-ui")
    server = DevServer(
        db_file=root / "temporal.db",
        port=free_port(),
        ui_port=loopback_port(),
        namespace="default",
        log_file=root / "temporal.log",
    )
    server.start()
    proxy = ReadOnlyWebUI(server.ui_url)
    port = free_port()
    front = _Server(server_config(proxy, port))
    serving = asyncio.create_task(front.serve())
    try:
        client = await server.wait_ready("default", None)
        await ui_answering(server.ui_url)
        for _ in range(200):
            if front.started:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the proxy did not start")
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[WaitsForever],
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        async with worker:
            yield WebUI(client, f"http://127.0.0.1:{port}", server.ui_url)
    finally:
        front.should_exit = True
        await serving
        await proxy.aclose()
        server.stop()


async def ui_answering(base_url: str) -> None:
    """Wait for the UI server's connection to the frontend: dialled while the server was still
    starting, it backs off for a while before it is tried again."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as ui:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await ui.get(f"{NS}")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the Web UI at {base_url} does not reach the Temporal server")


@contextlib.asynccontextmanager
async def csrf_session(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding the UI's CSRF cookie and sending its token, as the UI's pages do."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as session:
        await session.get("/api/v1/settings")
        session.headers["X-CSRF-Token"] = session.cookies["_csrf"]
        yield session


async def status(handle: WorkflowHandle[WaitsForever, None]) -> WorkflowExecutionStatus.ValueType:
    described = await handle.describe()
    return described.raw_description.workflow_execution_info.status


async def settled(handle: WorkflowHandle[WaitsForever, None]) -> int:
    """The history's length once the worker has run the first workflow task (then it waits)."""
    for _ in range(100):
        events = [event async for event in handle.fetch_history_events()]
        if events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return len(events)
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id} never ran its first workflow task")


async def test_reading_works_through_the_proxy(web_ui: WebUI) -> None:
    handle = await web_ui.start()
    async with httpx.AsyncClient(base_url=web_ui.proxied, timeout=30) as ui:
        page = await ui.get(f"/namespaces/default/workflows/{handle.id}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        described = await ui.get(f"{NS}/workflows/{handle.id}")
        assert described.status_code == 200, described.text
        info = described.json()["workflowExecutionInfo"]
        assert info["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"
        history = await ui.get(f"{NS}/workflows/{handle.id}/history")
        assert history.json()["history"]["events"][0]["eventType"] == (
            "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
        )
        for _ in range(100):  # visibility is written a moment after the start
            listed = await ui.get(f"{NS}/workflows", params={"query": f'WorkflowId="{handle.id}"'})
            if listed.json().get("executions"):
                break
            await asyncio.sleep(0.1)
        assert [e["execution"]["workflowId"] for e in listed.json()["executions"]] == [handle.id]


async def test_the_stack_trace_query_works_through_the_proxy(web_ui: WebUI) -> None:
    handle = await web_ui.start()
    async with csrf_session(web_ui.proxied) as ui:
        answer = await ui.post(f"{NS}/workflows/{handle.id}/query/__stack_trace", json={})
    assert answer.status_code == 200, answer.text
    assert answer.json()["queryResult"]["payloads"]


async def test_settings_report_write_actions_disabled(web_ui: WebUI) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        proxied = (await http.get(f"{web_ui.proxied}/api/v1/settings")).json()
        direct = (await http.get(f"{web_ui.direct}/api/v1/settings")).json()
    assert direct["DisableWriteActions"] is False
    assert {switch: proxied[switch] for switch in DISABLED_SETTINGS} == dict.fromkeys(
        DISABLED_SETTINGS, True
    )


async def test_writes_are_refused_and_the_workflow_runs_on(web_ui: WebUI) -> None:
    handle = await web_ui.start()
    wid = handle.id
    writes = [
        f"{NS}/workflows/{wid}/terminate",
        f"{NS}/workflows/{wid}/cancel",
        f"{NS}/workflows/{wid}/signal/anything",
        f"{NS}/workflows/{wid}/update/anything",
        f"{NS}/workflows/{wid}/reset",
        f"{NS}/workflows/{wid}/pause",
        f"{NS}/batch-operations/batch-{wid}",
        f"{NS}/schedules/schedule-{wid}",
    ]
    before = await settled(handle)
    async with csrf_session(web_ui.proxied) as ui:
        for path in writes:
            refused = await ui.post(path, json={"reason": "test"})
            assert (refused.status_code, refused.json()["message"]) == (403, REFUSAL), path
        deleted = await ui.delete(f"{NS}/schedules/schedule-{wid}")
        assert deleted.status_code == 403
    after = (await handle.describe()).raw_description.workflow_execution_info
    assert after.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    assert after.history_length == before

    # The same terminate sent to the dev server's own UI terminates the workflow.
    async with csrf_session(web_ui.direct) as direct:
        done = await direct.post(f"{NS}/workflows/{wid}/terminate", json={"reason": "test"})
    assert done.status_code == 200, done.text
    assert await status(handle) == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED


async def send_raw(base_url: str, head: str, body: bytes) -> tuple[int, bytes]:
    """Send a request's bytes as they are (httpx would cut a `#...` off the path itself) and
    read the answer to the end (the request says `Connection: close`)."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def workflow_ids(client: Client, since: datetime | None = None) -> set[str]:
    """The ids listed, of workflows started at `since` or later if given."""
    return {w.id async for w in client.list_workflows() if since is None or w.start_time >= since}


async def test_a_fragment_cannot_turn_a_query_into_a_start(web_ui: WebUI) -> None:
    # Through the old proxy `POST .../workflows/{id}#/query/x` passed the query allow-list and
    # reached the UI server as `POST .../workflows/{id}`: start workflow.
    began = datetime.now(UTC)
    before = await workflow_ids(web_ui.client)
    wid = f"via-proxy-{uuid.uuid4().hex[:8]}"
    start = {"workflowType": {"name": "Anything"}, "taskQueue": {"name": "nobody"}}
    body = json.dumps({"workflowId": wid, **start}).encode()
    async with csrf_session(web_ui.proxied) as ui:
        token = ui.cookies["_csrf"]
    status_code, answer = await send_raw(
        web_ui.proxied,
        f"POST {NS}/workflows/{wid}#/query/x HTTP/1.1\n"
        f"Host: {httpx.URL(web_ui.proxied).netloc.decode()}\n"
        f"X-CSRF-Token: {token}\nCookie: _csrf={token}\n"
        f"Content-Type: application/json\nContent-Length: {len(body)}\nConnection: close\n",
        body,
    )
    assert status_code == 400
    assert json.loads(answer)["message"] == BAD_PATH
    with pytest.raises(RPCError) as missing:
        await web_ui.client.get_workflow_handle(wid).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND

    # The same POST without the fragment, sent to the dev server's own UI, does start one.
    control = f"{wid}-direct"
    async with csrf_session(web_ui.direct) as direct:
        started = await direct.post(
            f"{NS}/workflows/{control}", json={"workflowId": control, **start}
        )
    assert started.status_code == 200, started.text
    for _ in range(100):  # visibility is written a moment after the start
        # Started since, and not listed before: one of the earlier tests' workflows may have
        # been written to visibility too late for `before`.
        new = await workflow_ids(web_ui.client, since=began) - before
        if control in new:
            break
        await asyncio.sleep(0.1)
    assert new == {control}


async def test_a_page_naming_another_host_reads_nothing(web_ui: WebUI) -> None:
    # A DNS-rebinding page: its own host name, resolved to 127.0.0.1 and the proxy's port.
    port = httpx.URL(web_ui.proxied).port
    async with httpx.AsyncClient(base_url=web_ui.proxied, timeout=30) as ui:
        refused = await ui.get(f"{NS}/workflows", headers={"host": f"evil.example:{port}"})
        assert (refused.status_code, refused.json()["message"]) == (421, MISDIRECTED)
        assert (await ui.get(f"{NS}/workflows")).status_code == 200


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING_CHROMIUM)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def test_the_workflow_page_offers_no_write_action(web_ui: WebUI, browser: Browser) -> None:
    handle = await web_ui.start()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        for base, name, enabled in ((web_ui.direct, "direct", True), (web_ui.proxied, "ui", False)):
            await page.goto(f"{base}/namespaces/default/workflows/{handle.id}")
            # The UI is a single-page app: on a busy machine it takes a while to load.
            await expect(page.get_by_role("heading", name=handle.id)).to_be_visible(
                timeout=PAGE_LOAD_MS
            )
            cancel = page.get_by_role("button", name="Request Cancellation")
            more = page.get_by_role("button", name="More Actions")
            await expect(cancel).to_be_enabled(enabled=enabled)
            await expect(more).to_be_enabled(enabled=enabled)
            await page.screenshot(path=str(SCREENSHOTS / f"embedded-web-ui-{name}.png"))
        # Through the proxy no write action is offered anywhere on the page.
        for action in ("Terminate", "Cancel", "Signal", "Reset", "Update", "Pause"):
            offered = page.get_by_role("button", name=action).and_(page.locator(":enabled"))
            assert await offered.count() == 0, action
        # The call stack (a query, the one POST let through) still shows.
        await page.get_by_role("tab", name="Call Stack").click()
        await expect(page.get_by_text("query: __stack_trace").first).to_be_visible(
            timeout=PAGE_LOAD_MS
        )
        await page.screenshot(path=str(SCREENSHOTS / "embedded-web-ui-call-stack.png"))
    finally:
        await context.close()
    assert await status(handle) == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
