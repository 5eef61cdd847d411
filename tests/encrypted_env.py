"""A time-skipping test server whose clients encrypt every payload and seal every Update and
Signal, as the product does; for the tests that check encryption or share payloads with a
`denials` subprocess."""

from __future__ import annotations

import base64

from temporalio.testing import WorkflowEnvironment

from app.encryption import EncryptionCodec, Keyring, encrypted_data_converter
from denials.actor_seals import ActorSeals
from denials.embedded import installed_binary
from denials.temporal import ensure_search_attributes

# A fixed test key (tests only), also given to `denials` subprocesses as DENIALS_PAYLOAD_KEYS.
TEST_PAYLOAD_KEYS = f"test:{base64.b64encode(b'test-only-key-of-32-bytes-long!!').decode()}"
TEST_KEYRING = Keyring.parse(TEST_PAYLOAD_KEYS, source="tests")


async def start_encrypted_env() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(installed_binary("temporal-test-server")),
        data_converter=encrypted_data_converter(EncryptionCodec(TEST_KEYRING)),
        interceptors=[ActorSeals(TEST_KEYRING)],
    )
    await ensure_search_attributes(env.client, "default")
    return env
