"""End to end with real processes: the `temporal` dev server binary, the worker and the HTTP
server, started the way users start them (`denials up`, or `denials worker` + `denials api`)."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session

from db.engine import make_engine, migrate
from services.users import UserService
from testkit.processes import DENIALS, processes_mentioning
from testkit.records import adj, make_record
from tests.e2e.cluster import Cluster, wait_ready


def sign_in(base_url: str, user: str) -> dict[str, str]:
    """A bearer token for a demo user (password "demo")."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": user, "password": "demo"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def poll_case(base_url: str, case_id: str, status: str) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    headers = sign_in(base_url, "alice")
    while time.monotonic() < deadline:
        response = httpx.get(f"{base_url}/api/v1/cases/{case_id}", headers=headers)
        if response.status_code == 200 and response.json()["summary"]["status"] == status:
            return response.json()  # type: ignore[no-any-return]
        time.sleep(0.25)
    raise AssertionError(f"case {case_id} never reached {status}")


def wait_for_demo_cases(base_url: str) -> int:
    """The demo cases reach the read model once the worker has triaged them."""
    deadline = time.monotonic() + 60
    headers = sign_in(base_url, "sam")
    while True:
        page = httpx.get(f"{base_url}/api/v1/cases?status=triaged", headers=headers)
        if page.json()["total"] >= 9 or time.monotonic() > deadline:
            return int(page.json()["total"])
        time.sleep(0.5)


def create_and_work_a_case(base_url: str) -> None:
    """Create a case over HTTP, see it triaged, complete its first task."""
    today = datetime.now(UTC).date()
    record = make_record(today, adjustments=[adj("CO-197", 1500)], billed=1500)
    alice = sign_in(base_url, "alice")
    created = httpx.post(
        f"{base_url}/api/v1/cases",
        json=record.model_dump(mode="json"),
        headers=alice,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    detail = poll_case(base_url, case_id, "triaged")
    assert detail["summary"]["category"] == "authorization"
    (task,) = [t for t in detail["tasks"] if t["status"] == "open"]
    assert task["type"] == "confirm_triage"
    completed = httpx.post(
        f"{base_url}/api/v1/tasks/{task['task_id']}/complete",
        json={"payload": {"type": "confirm_triage"}},
        headers=alice,
        timeout=30,
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "root_cause"
    assert poll_case(base_url, case_id, "root_cause")["summary"]["owner"] == "alice"


def test_denials_up_serves_cases_and_stops_cleanly(
    stack_env: tuple[dict[str, str], str, Path],
) -> None:
    env, base_url, tmp_path = stack_env
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([DENIALS, "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(base_url, process, log)
        assert wait_for_demo_cases(base_url) == 9
        create_and_work_a_case(base_url)
        assert httpx.get(f"{base_url}/cases").status_code == 303  # anonymous: to the login page
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(60)
    assert returncode == 0, log.read_text()
    assert processes_mentioning(env["DENIALS_DATA_DIR"]) == [], "no orphan temporal process"
    assert (Path(env["DENIALS_DATA_DIR"]) / "temporal.db").exists()


def test_worker_and_api_against_a_running_server(tmp_path: Path) -> None:
    """`denials worker` and `denials api` as separate processes on an existing server."""
    database_url = f"sqlite:///{tmp_path / 'denials.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session:
        UserService(session).ensure_demo_users()
    engine.dispose()
    cluster = Cluster(tmp_path, database_url)
    cluster.start_server()
    try:
        cluster.start("worker", "worker")
        cluster.start("api", "api")
        create_and_work_a_case(cluster.wait_ready("api"))
    finally:
        codes = cluster.stop()
    assert codes == {"worker": 0, "api": 0}, cluster.log_text()
