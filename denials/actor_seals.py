"""Vouching for who starts a workflow or sends it an Update or Signal, so nobody who merely
reaches Temporal can act as a user: the API (after signing the user in), the worker's
activities and the CLI seal every start, Update and Signal with an HMAC over the workflow, the
message, its id and its whole input (the actor included); the worker refuses an Update whose
seal does not verify (in the validator, so the refusal leaves no trace in history), drops such
a Signal and fails such a start before it does anything.

The HMAC keys are derived from the payload keyring (HKDF, one per payload key), so a key that
can still open a case's payloads can still verify its seals: rotation needs nothing more.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import TypeAdapter
from pydantic_core import to_json
from temporalio import client, workflow
from temporalio.api.common.v1 import Payload
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from app.encryption import Keyring
from workflows.refusals import Refusal, refuse

SEAL_HEADER = "denials-seal"
_HKDF_INFO = b"denials actor seal v1"
_VERSION = 2
# A start is sealed with the time it was sent: one replayed later (after the case's workflow
# was terminated, to roll it back) is refused. Allows for clocks apart and a slow server.
START_SEAL_SECONDS = 600
# Evaluated once per run, first thing: runs started before seals existed replay unchecked.
SEALS_PATCH = "sealed-messages"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ActorSealer:
    """Seals and verifies one message: (kind, workflow id, name, message id, input)."""

    def __init__(
        self, keyring: Keyring, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._current_id = keyring.current_id
        self._keys = {key_id: _derive(key) for key_id, key in keyring.keys.items()}
        self._clock = clock

    def seal(
        self, kind: str, workflow_id: str, name: str, message_id: str, args: Sequence[Any]
    ) -> Payload:
        """The header an outgoing message carries; `args` as the caller passes them."""
        received = [_as_received(arg) for arg in args]
        at = self._clock().isoformat() if kind == "start" else ""
        mac = self._mac(
            self._current_id, _VERSION, kind, workflow_id, name, message_id, at, received
        )
        seal = {"v": _VERSION, "key": self._current_id, "mac": mac, "at": at}
        return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(seal).encode())

    def problem(
        self,
        kind: str,
        workflow_id: str,
        name: str,
        message_id: str,
        args: Sequence[Any],
        headers: Mapping[str, Payload],
        received_at: datetime | None = None,
    ) -> str | None:
        """Why a received message is not vouched for, or None when its seal verifies.
        `received_at`: when a start reached the server."""
        header = headers.get(SEAL_HEADER)
        if header is None:
            return f"{kind} '{name}' carries no seal: only the denials API and worker may send it"
        try:
            seal = json.loads(header.data)
            key_id, mac = str(seal["key"]), str(seal["mac"])
            version, at = int(seal.get("v", 1)), str(seal.get("at", ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            return f"{kind} '{name}' carries a malformed seal"
        if key_id not in self._keys:
            return f"{kind} '{name}' is sealed with an unknown key '{key_id}'"
        expected = self._mac(key_id, version, kind, workflow_id, name, message_id, at, args)
        if not hmac.compare_digest(expected, mac):
            return (
                f"{kind} '{name}' has a seal that does not match it: it was altered, replayed "
                "or sealed for another case"
            )
        if received_at is not None:
            try:
                sent = datetime.fromisoformat(at)
                late = abs((received_at - sent).total_seconds()) > START_SEAL_SECONDS
            except (ValueError, TypeError):
                late = True
            if late:
                return f"start '{name}' carries a seal issued at another time: it was replayed"
        return None

    def _mac(
        self,
        key_id: str,
        version: int,
        kind: str,
        workflow_id: str,
        name: str,
        message_id: str,
        at: str,
        args: Sequence[Any],
    ) -> str:
        if version == 1:  # seals issued before 'at' and the stable form (still verifiable)
            head, body = [kind, workflow_id, name, message_id], to_json(list(args))
        else:
            head, body = [version, kind, workflow_id, name, message_id, at], _canonical(args)
        message = json.dumps(head).encode() + body
        return hmac.new(self._keys[key_id], message, hashlib.sha256).hexdigest()


def _derive(payload_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        payload_key
    )


@functools.cache
def _adapter(kind: type) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def _as_received(arg: Any) -> Any:
    """`arg` as the worker will see it: serialised, then validated as its type (a model
    copied with changes skips validation, which may normalise a field on arrival)."""
    adapter = _adapter(type(arg))
    return adapter.validate_json(to_json(arg))


def _canonical(args: Sequence[Any]) -> bytes:
    """The input as the MAC covers it: fields at their defaults left out, so a field added
    later (with a default) does not change what an older message's seal covers on replay."""
    parts = [_adapter(type(arg)).dump_json(arg, exclude_defaults=True) for arg in args]
    return b"[" + b",".join(parts) + b"]"


class _SealingOutbound(client.OutboundInterceptor):
    def __init__(self, next: client.OutboundInterceptor, sealer: ActorSealer) -> None:
        super().__init__(next)
        self._sealer = sealer

    async def start_workflow_update(
        self, input: client.StartWorkflowUpdateInput
    ) -> client.WorkflowUpdateHandle[Any]:
        # The seal names the update id, so a captured Update resent under another id fails.
        input.update_id = input.update_id or str(uuid.uuid4())
        seal = self._sealer.seal("update", input.id, input.update, input.update_id, input.args)
        input.headers = {**input.headers, SEAL_HEADER: seal}
        return await super().start_workflow_update(input)

    async def start_workflow(
        self, input: client.StartWorkflowInput
    ) -> client.WorkflowHandle[Any, Any]:
        seal = self._sealer.seal("start", input.id, input.workflow, "", input.args)
        input.headers = {**input.headers, SEAL_HEADER: seal}
        return await super().start_workflow(input)

    async def signal_workflow(self, input: client.SignalWorkflowInput) -> None:
        seal = self._sealer.seal("signal", input.id, input.signal, "", input.args)
        input.headers = {**input.headers, SEAL_HEADER: seal}
        await super().signal_workflow(input)


class ActorSeals(client.Interceptor, Interceptor):
    """Given to the client: it seals what the client sends, and a worker built on that client
    verifies what its workflows receive."""

    def __init__(self, keyring: Keyring, clock: Callable[[], datetime] = _utc_now) -> None:
        self._sealer = ActorSealer(keyring, clock)

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _SealingOutbound(next, self._sealer)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        sealer = self._sealer

        class Verifying(_VerifyingInbound):
            _sealer = sealer

        return Verifying


def continued_as_new(info: workflow.Info) -> bool:
    """Whether this run was started by its previous run continuing as new (only a worker can
    do that). Cron and retry runs also name a previous run, but repeat their first run's
    start: they are checked as it was."""
    return info.continued_run_id is not None and not info.cron_schedule and info.attempt == 1


class _VerifyingInbound(WorkflowInboundInterceptor):
    _sealer: ActorSealer
    _enforce: bool | None = None

    def _enforcing(self) -> bool:
        """Whether this run checks starts and Signals: decided once per run, at its first
        start or Signal (in a run's first activation Signals come before the start), so a run
        begun before seals existed replays as it ran."""
        if self._enforce is None:
            self._enforce = workflow.patched(SEALS_PATCH)
        return self._enforce

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        # A run without input (a schedule's, whose ids are not known ahead) carries nothing
        # to forge. Any other start must be the product's, and recent.
        if self._enforcing() and input.args and not continued_as_new(info):
            problem = self._sealer.problem(
                "start",
                info.workflow_id,
                info.workflow_type,
                "",
                input.args,
                input.headers,
                # When the server took this run's start: a cron or retry run repeating an old
                # start later is refused (the product uses neither).
                received_at=info.workflow_start_time,
            )
            if problem is not None:
                refuse(Refusal.FORBIDDEN, problem)
        return await super().execute_workflow(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        # Validators are not replayed: checking here leaves a forged Update no trace.
        problem = self._sealer.problem(
            "update", workflow.info().workflow_id, input.update, input.id, input.args, input.headers
        )
        if problem is not None:
            refuse(Refusal.FORBIDDEN, problem)
        super().handle_update_validator(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        enforcing = self._enforcing()
        problem = self._sealer.problem(
            "signal", workflow.info().workflow_id, input.signal, "", input.args, input.headers
        )
        if problem is not None and enforcing:  # a Signal cannot be refused, only dropped
            workflow.logger.warning("dropped a signal: %s", problem)
            return
        await super().handle_signal(input)
