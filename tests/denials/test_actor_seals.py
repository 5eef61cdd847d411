"""Nobody who merely reaches Temporal acts as a user: Updates and Signals not sealed by the
product's clients are refused (Updates) or dropped (Signals), and plain payloads are refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio import client as temporal_client
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from app.encryption import EncryptionCodec, Keyring, encrypted_data_converter
from denials.actor_seals import SEAL_HEADER, ActorSealer, ActorSeals, continued_as_new
from denials.temporal import connect
from denials.worker import WORKFLOWS
from domain.case import PayerDecision, PayerResponse, TaskType
from testkit.records import adj, make_record
from tests.encrypted_env import TEST_KEYRING, TEST_PAYLOAD_KEYS
from tests.harness import ALICE, CaseHarness
from workflows.case_workflow import DenialCaseWorkflow
from workflows.messages import CaseInput, CompleteTask, ConfirmTriage
from workflows.refusals import Refusal

SEALER = ActorSealer(TEST_KEYRING)
REQUEST = CompleteTask(actor=ALICE, task_id="t1", payload=ConfirmTriage())


def _sealed(workflow_id: str = "case-1", update_id: str = "u1") -> Payload:
    return SEALER.seal("update", workflow_id, "complete_task", update_id, [REQUEST])


def _problem(header: Payload | None, *, args: list[Any] | None = None, **where: str) -> str | None:
    place = {"workflow_id": "case-1", "message_id": "u1", **where}
    return SEALER.problem(
        "update",
        place["workflow_id"],
        "complete_task",
        place["message_id"],
        [REQUEST] if args is None else args,
        {SEAL_HEADER: header} if header is not None else {},
    )


def test_a_seal_verifies_only_for_its_own_message() -> None:
    assert _problem(_sealed()) is None
    assert "no seal" in (_problem(None) or "")
    assert "does not match" in (_problem(_sealed(), workflow_id="case-2") or "")
    assert "does not match" in (_problem(_sealed(), message_id="u2") or "")
    as_bob = REQUEST.model_copy(update={"actor": ALICE.model_copy(update={"user_id": "bob"})})
    assert "does not match" in (_problem(_sealed(), args=[as_bob]) or "")
    assert "malformed" in (_problem(Payload(data=b"not json")) or "")


def test_seals_survive_key_rotation_and_refuse_foreign_keys() -> None:
    rotated = Keyring.parse(f"{TEST_PAYLOAD_KEYS},k2:{'A' * 43}=", "k2", source="test")
    sealed_before = _sealed()
    assert (
        ActorSealer(rotated).problem(
            "update", "case-1", "complete_task", "u1", [REQUEST], {SEAL_HEADER: sealed_before}
        )
        is None
    )
    stranger = ActorSealer(Keyring.parse(f"other:{'B' * 43}=", source="test"))
    foreign = stranger.seal("update", "case-1", "complete_task", "u1", [REQUEST])
    assert "unknown key" in (_problem(foreign) or "")


# model_copy skips validation: pydantic warns when serialising the unvalidated field.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_a_model_copied_without_validation_seals_as_the_worker_reads_it() -> None:
    answer = PayerResponse(
        decision=PayerDecision.PAID,
        paid_amount=Decimal("10.50"),
        decision_date="2026-11-02",  # type: ignore[arg-type]
        source="835",
    ).model_copy(update={"paid_amount": 10})  # an int where the worker reads a Decimal
    seal = SEALER.seal("signal", "case-1", "payer_response", "", [answer])
    received = PayerResponse.model_validate_json(answer.model_dump_json())
    assert (
        SEALER.problem("signal", "case-1", "payer_response", "", [received], {SEAL_HEADER: seal})
        is None
    )


def test_every_update_the_worker_runs_has_a_validator_so_its_seal_is_checked() -> None:
    updates = {
        f"{defn.__name__}.{name}": update
        for defn in WORKFLOWS
        for name, update in workflow._Definition.must_from_class(defn).updates.items()
    }
    assert len(updates) >= 10
    assert [name for name, u in updates.items() if u.validator is None] == []


def _outsider(harness: CaseHarness, *, encrypting: bool) -> Client:
    """A client reaching the same Temporal server without the product's seals."""
    converter = (
        encrypted_data_converter(EncryptionCodec(TEST_KEYRING))
        if encrypting
        else pydantic_data_converter
    )
    return Client(harness.client.service_client, namespace="default", data_converter=converter)


class _Replaying(temporal_client.Interceptor):
    """Sends an Update under a new id with the seal captured from an earlier one."""

    def __init__(self, header: Payload) -> None:
        self._header = header

    def intercept_client(
        self, next: temporal_client.OutboundInterceptor
    ) -> temporal_client.OutboundInterceptor:
        header = self._header

        class Outbound(temporal_client.OutboundInterceptor):
            async def start_workflow_update(
                self, input: temporal_client.StartWorkflowUpdateInput
            ) -> temporal_client.WorkflowUpdateHandle[Any]:
                input.headers = {**input.headers, SEAL_HEADER: header}
                return await super().start_workflow_update(input)

        return Outbound(next)


async def test_forged_updates_and_signals_straight_to_temporal_change_nothing(
    encrypted: CaseHarness,
) -> None:
    harness = encrypted
    today = await harness.today()
    handle, state = await harness.triaged(make_record(today, adjustments=[adj("CO-50", 400)]))
    task = harness.open_task(state, TaskType.CONFIRM_TRIAGE)
    as_alice = CompleteTask(actor=ALICE, task_id=task.task_id, payload=ConfirmTriage())

    # `temporal workflow update execute --input '{"actor": ...}'`: a plain payload.
    plain = _outsider(harness, encrypting=False).get_workflow_handle(handle.id)
    # (Its failure is encrypted too: only the product's clients can read why.)
    with pytest.raises(WorkflowUpdateFailedError):
        await plain.execute_update("complete_task", as_alice)
    # Encrypted with the payload key, but not sealed by the product.
    unsealed = _outsider(harness, encrypting=True).get_workflow_handle(handle.id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await unsealed.execute_update("complete_task", as_alice)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == Refusal.FORBIDDEN.value
    assert "no seal" in cause.message
    # A seal captured from another request does not vouch for this one.
    captured = SEALER.seal("update", handle.id, "complete_task", "an-earlier-id", [as_alice])
    replaying = Client(**{**harness.client.config(), "interceptors": [_Replaying(captured)]})
    with pytest.raises(WorkflowUpdateFailedError) as replayed:
        await replaying.get_workflow_handle(handle.id).execute_update("complete_task", as_alice)
    assert "does not match" in str(replayed.value.cause)
    # A forged payer answer is dropped: the case does not move.
    paid = PayerResponse(
        decision=PayerDecision.PAID, paid_amount=Decimal(400), decision_date=today, source="835"
    )
    await unsealed.signal("payer_response", paid)
    await plain.signal("payer_response", paid)

    # A case started straight in Temporal fails before doing anything (no triage, no row).
    forged = make_record(today, adjustments=[adj("CO-16", 90)])
    forged_id = f"case-forged-{uuid.uuid4().hex[:8]}"
    with pytest.raises(WorkflowFailureError) as refused_start:
        await _outsider(harness, encrypting=True).execute_workflow(
            DenialCaseWorkflow.run,
            CaseInput(case_id=forged_id, record=forged, policy=harness.policy),
            id=forged_id,
            task_queue=harness.task_queue,
        )
    assert "carries no seal" in str(refused_start.value.cause)
    assert harness.event_rows(forged_id) == []

    # The product's own client, sealing, still works; the forged signals came before it.
    await handle.execute_update(DenialCaseWorkflow.complete_task, as_alice)
    after = await harness.state(handle)
    assert after.payer_responses == []
    assert after.outcome is None
    assert not any(t.task_id == task.task_id for t in after.open_tasks)


async def test_the_products_clients_seal_and_verify_whenever_they_encrypt() -> None:
    encrypting = await connect(
        "127.0.0.1:1", "default", codec=EncryptionCodec(TEST_KEYRING), lazy=True
    )
    assert [type(i) for i in encrypting.config()["interceptors"]] == [ActorSeals]
    plain = await connect("127.0.0.1:1", "default", codec=None, lazy=True)
    assert plain.config()["interceptors"] == []


@workflow.defn(sandboxed=False)
class ContinuesOnce:
    """Continues as new once: its second run is started by the first, not by a client."""

    @workflow.run
    async def run(self, times: int) -> int:
        if times > 0:
            workflow.continue_as_new(times - 1)
        return 7


async def test_only_the_products_clients_start_workflows_with_input(
    encrypted_env: WorkflowEnvironment,
) -> None:
    queue = f"seal-{uuid.uuid4().hex[:8]}"
    async with Worker(encrypted_env.client, task_queue=queue, workflows=[ContinuesOnce]):
        # Sealed by the product's client; the run it continues as is trusted as its own.
        ours = await encrypted_env.client.execute_workflow(
            ContinuesOnce.run, 1, id=f"ours-{uuid.uuid4()}", task_queue=queue
        )
        assert ours == 7
        outsider = Client(
            encrypted_env.client.service_client,
            namespace="default",
            data_converter=encrypted_data_converter(EncryptionCodec(TEST_KEYRING)),
        )
        with pytest.raises(WorkflowFailureError) as refused:
            await outsider.execute_workflow(
                ContinuesOnce.run, 1, id=f"forged-{uuid.uuid4()}", task_queue=queue
            )
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == Refusal.FORBIDDEN.value
        assert "start 'ContinuesOnce' carries no seal" in cause.message


@pytest.mark.parametrize(
    ("continued_from", "cron", "attempt", "expected"),
    [
        (None, "", 1, False),  # a start
        ("run-1", "", 1, True),  # continued as new by its previous run
        ("run-1", "* * * * *", 1, False),  # a cron run repeats its first run's start
        ("run-1", "", 2, False),  # so does a retry run
    ],
)
def test_only_a_run_continued_as_new_skips_the_start_check(
    continued_from: str | None, cron: str, attempt: int, expected: bool
) -> None:
    info = SimpleNamespace(continued_run_id=continued_from, cron_schedule=cron, attempt=attempt)
    assert continued_as_new(info) is expected  # type: ignore[arg-type]


async def test_a_start_sealed_long_before_it_reached_temporal_is_refused(
    encrypted_env: WorkflowEnvironment,
) -> None:
    """A captured start sent again later (say, after terminating the case, to roll it back)."""
    queue = f"seal-{uuid.uuid4().hex[:8]}"
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    replaying = Client(
        **{
            **encrypted_env.client.config(),
            "interceptors": [ActorSeals(TEST_KEYRING, lambda: an_hour_ago)],
        }
    )
    async with Worker(encrypted_env.client, task_queue=queue, workflows=[ContinuesOnce]):
        with pytest.raises(WorkflowFailureError) as refused:
            await replaying.execute_workflow(
                ContinuesOnce.run, 0, id=f"stale-{uuid.uuid4()}", task_queue=queue
            )
    assert "issued at another time" in str(refused.value.cause)


class _NoteV1(BaseModel):
    text: str


class _NoteV2(BaseModel):  # the same message after a release added a field with a default
    text: str
    urgent: bool = False


def test_a_seal_still_verifies_after_a_field_with_a_default_is_added() -> None:
    sealed = SEALER.seal("signal", "case-1", "note", "", [_NoteV1(text="called")])
    received = [_NoteV2(text="called")]
    problem = SEALER.problem("signal", "case-1", "note", "", received, {SEAL_HEADER: sealed})
    assert problem is None
