"""From outside, as an attacker who reaches Temporal under `denials up` would: the `temporal`
CLI sends alice's task completion and a payer's payment straight to a case. Neither changes it;
the case still works through the API."""

from __future__ import annotations

import json
import subprocess

import httpx

from denials.embedded import installed_binary
from tests.e2e.test_processes import sign_in, wait_for_demo_cases


def _temporal(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(installed_binary("temporal")), *args, "--address", address],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_temporal_cli_cannot_act_as_a_user_or_as_the_payer(
    running_stack: tuple[str, str],
) -> None:
    base_url, temporal_address = running_stack
    assert wait_for_demo_cases(base_url) >= 1
    alice = sign_in(base_url, "alice")
    with httpx.Client(base_url=base_url, headers=alice, timeout=30) as http:
        case_id = http.get("/api/v1/cases", params={"status": "triaged"}).json()["items"][0][
            "case_id"
        ]
        before = http.get(f"/api/v1/cases/{case_id}").json()
        (task,) = [t for t in before["tasks"] if t["status"] == "open"]
        forged_completion = {
            "actor": {"user_id": "alice", "role": "biller"},
            "task_id": task["task_id"],
            "payload": {"type": "confirm_triage"},
        }
        update = _temporal(
            temporal_address,
            "workflow",
            "update",
            "execute",
            "--workflow-id",
            case_id,
            "--name",
            "complete_task",
            "--input",
            json.dumps(forged_completion),
        )
        assert update.returncode != 0, update.stdout
        assert "unable to update workflow" in update.stderr  # refused by the worker
        payment = {"decision": "paid", "paid_amount": "5000", "decision_date": "2026-11-30"}
        signal = _temporal(
            temporal_address,
            "workflow",
            "signal",
            "--workflow-id",
            case_id,
            "--name",
            "payer_response",
            "--input",
            json.dumps(payment),
        )
        assert signal.returncode == 0, signal.stderr  # accepted by the server, dropped by us

        # Through the API the task still completes: the forgeries came first and did nothing.
        done = http.post(
            f"/api/v1/tasks/{task['task_id']}/complete",
            json={"payload": {"type": "confirm_triage"}},
        )
        assert done.status_code == 200, done.text
        after = http.get(f"/api/v1/cases/{case_id}").json()
        assert after["summary"]["status"] != "closed"
        assert after["state"]["payer_responses"] == []
        assert [e for e in after["timeline"] if e["type"] == "payer_response"] == []
        completed = [t for t in after["tasks"] if t["task_id"] == task["task_id"]]
        assert completed[0]["status"] == "completed"
