"""With the payload codec on, the Temporal server never holds a case's PHI in plaintext: not in
the history's payloads, the workflow id, the search attributes, nor in the logs of the run."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from app.encryption import ENCODING, EncryptionCodec
from denials.logs import JsonFormatter
from domain.case import CaseOutcome, PayerDecision, PayerResponse, TaskType
from domain.models import DenialRecord, Patient
from testkit.records import adj, make_record
from tests.encrypted_env import TEST_KEYRING
from tests.harness import ALICE, CaseHarness
from tests.workflows.case_flow import assert_closed, submit_appeal, to_path
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import CompleteTask, ConfirmTriage

NAME, MEMBER_ID, BIRTH = "QUIXANO ALVAREZ", "MBRQ7731X", date(1937, 8, 19)
PHI = [NAME, MEMBER_ID, BIRTH.isoformat(), BIRTH.strftime("%Y%m%d"), BIRTH.strftime("%m/%d/%Y")]
# Payloads that are not the app's data: search attributes (indexed, so never encrypted; they
# hold no PHI, checked below) and the SDK's own marker bookkeeping (patch ids, local activity
# ids and times; a local activity's result is under `result` and encrypted) and the seal
# vouching for each Update and Signal (a key id and an HMAC, checked below to hold no PHI).
SDK_OWN = re.compile(
    r"searchAttributes|markerRecordedEventAttributes\.details\.(patch-data|data)\."
    r"|header\.fields\.denials-seal"
)


def phi_record(today: date) -> DenialRecord:
    record = make_record(today, adjustments=[adj("CO-50", 1000)])
    patient = Patient(name=NAME, member_id=MEMBER_ID, birth_date=BIRTH)
    return record.model_copy(update={"claim": record.claim.model_copy(update={"patient": patient})})


def payloads_in(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Payload of a history in protobuf JSON, with where it sits."""
    if isinstance(node, dict):
        if isinstance(node.get("metadata"), dict) and "encoding" in node["metadata"]:
            yield path, node
        for key, value in node.items():
            yield from payloads_in(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from payloads_in(value, f"{path}[{index}]")


def leaked(text: str) -> list[str]:
    return [item for item in PHI if item in text]


async def test_finished_case_leaves_no_plaintext_phi_on_the_server(
    encrypted: CaseHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness = encrypted
    today = await harness.today()
    handle, _ = await harness.triaged(phi_record(today))
    assert harness.open_task(await harness.state(handle), TaskType.CONFIRM_TRIAGE)
    # A refused Update travels back as a failure: it must decode for the caller too.
    with pytest.raises(WorkflowUpdateFailedError) as refusal:
        await handle.execute_update(
            DenialCaseWorkflow.complete_task,
            CompleteTask(actor=ALICE, task_id="no-such-task", payload=ConfirmTriage()),
        )
    assert isinstance(refusal.value.cause, ApplicationError)
    assert "no-such-task" in refusal.value.cause.message
    await to_path(harness, handle)
    await submit_appeal(harness, handle, 1, today)
    await handle.signal(
        DenialCaseWorkflow.payer_response,
        PayerResponse(
            decision=PayerDecision.PAID,
            paid_amount=Decimal(1000),
            decision_date=today,
            source="835",
        ),
    )
    await assert_closed(harness, handle, CaseOutcome.RECOVERED, Decimal(1000))
    state = await harness.state(handle)  # through the codec, the case data is all there
    assert state.record.claim.patient.member_id == MEMBER_ID

    # What the server holds, read by a client without the codec.
    raw = Client(
        harness.client.service_client, namespace="default", data_converter=pydantic_data_converter
    )
    history = await raw.get_workflow_handle(handle.id).fetch_history()
    assert leaked(history.to_json()) == []
    raw_bytes = b"".join(event.SerializeToString() for event in history.events)
    assert [p for p in PHI if p.encode() in raw_bytes] == []

    payloads = list(payloads_in(history.to_json_dict()))
    data_payloads = [(where, p) for where, p in payloads if not SDK_OWN.search(where)]
    assert len(data_payloads) > 10
    plain = [
        where
        for where, p in data_payloads
        if base64.b64decode(p["metadata"]["encoding"]) != ENCODING
    ]
    assert plain == [], f"unencrypted payloads at {plain[:5]}"
    # Control: the ciphertext does hold the PHI, and the key opens it.
    opened = await EncryptionCodec(TEST_KEYRING).decode(
        [
            Payload(metadata={"encoding": ENCODING, **_bytes(p["metadata"])}, data=_b64(p["data"]))
            for _, p in data_payloads
        ]
    )
    assert MEMBER_ID.encode() in b"".join(p.data for p in opened)

    assert leaked(handle.id) == []
    description = await raw.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace="default", execution=WorkflowExecution(workflow_id=handle.id)
        )
    )
    attributes = description.workflow_execution_info.search_attributes
    assert len(attributes.indexed_fields) > 0
    assert [p for p in PHI if p.encode() in attributes.SerializeToString()] == []

    assert caplog.records, "the run logged nothing: the log check would prove nothing"
    formatter = JsonFormatter()
    for record in caplog.records:
        line = formatter.format(record)
        assert json.loads(line)["message"] == record.getMessage()
        assert leaked(line) == [], line


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _bytes(metadata: dict[str, str]) -> dict[str, bytes]:
    return {key: _b64(value) for key, value in metadata.items()}
