"""Connecting to Temporal the same way from the worker, the API and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.converter import PayloadCodec
from temporalio.service import RPCError, RPCStatusCode

from app.encryption import EncryptionCodec, encrypted_data_converter
from denials.actor_seals import ActorSeals
from workflows import search_attributes

log = logging.getLogger(__name__)

_INDEXED_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    SearchAttributeIndexedValueType.DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
}


async def connect(
    address: str, namespace: str, *, codec: PayloadCodec | None, lazy: bool = False
) -> Client:
    """A client whose payloads go through `codec` (the encryption codec in the product; every
    caller states it, so no client can forget it). With the encryption codec, the client also
    seals every Update and Signal it sends, and a worker built on it refuses unsealed ones."""
    seals = [ActorSeals(codec.keyring)] if isinstance(codec, EncryptionCodec) else []
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=encrypted_data_converter(codec),
        interceptors=seals,
        lazy=lazy,
    )


async def connect_when_up(
    address: str,
    namespace: str,
    *,
    codec: PayloadCodec | None,
    timeout: float = 60.0,
    still_starting: Callable[[], bool] = lambda: True,
) -> Client:
    """Connect, retrying while the server starts (a worker may start before its server)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await connect(address, namespace, codec=codec)
        except RuntimeError:
            if loop.time() > deadline or not still_starting():
                raise
            log.info("waiting for Temporal at %s", address)
            await asyncio.sleep(0.5)


def _indexed_type(key: SearchAttributeKey) -> IndexedValueType.ValueType:
    return _INDEXED_TYPES[key.indexed_value_type]


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register the case search attributes the server does not know yet (idempotent)."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as exc:  # the time-skipping test server cannot list them
        if exc.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: _indexed_type(key) for key in search_attributes.ALL if key.name not in known
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
        except RPCError as exc:  # another process registered them first
            if exc.status is not RPCStatusCode.ALREADY_EXISTS:
                raise


class NamespaceMissing(RuntimeError):
    """The namespace did not appear on the server within the time allowed."""


async def wait_for_namespace(
    client: Client, namespace: str, *, timeout: float, poll: float = 1.0
) -> None:
    """Return once the server knows `namespace`: in a cluster another one-shot step creates it,
    and registering search attributes before that fails (the race that stopped the stack)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=namespace)
            )
            return
        except RPCError as exc:
            # NOT_FOUND until it is created; UNAVAILABLE while the frontend is still starting.
            if exc.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.UNAVAILABLE):
                raise
        if loop.time() + poll > deadline:
            raise NamespaceMissing(
                f"namespace '{namespace}' does not exist on the Temporal server at "
                f"{client.service_client.config.target_host} after waiting {timeout:g} s: create "
                f"it ('temporal operator namespace create -n {namespace}') or set "
                "DENIALS_TEMPORAL_NAMESPACE to one that exists"
            )
        log.info("waiting for namespace %s", namespace)
        await asyncio.sleep(poll)


async def register_search_attributes(address: str, namespace: str, *, wait: float) -> None:
    """Wait for the server, then for the namespace (up to `wait` seconds each), then register
    the search attributes (operator calls carry no payloads, so no codec is involved)."""
    client = await connect_when_up(address, namespace, codec=None, timeout=wait)
    await wait_for_namespace(client, namespace, timeout=wait)
    await ensure_search_attributes(client, namespace)
