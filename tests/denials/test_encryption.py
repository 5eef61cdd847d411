"""The payload codec: AES-GCM per payload, key id in metadata, rotation through the keyring."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from app.encryption import (
    ENCODING,
    KEY_ID_METADATA,
    REFUSED_ENCODING,
    EncryptionCodec,
    KeyConfigError,
    Keyring,
    PayloadDecryptionError,
    encrypted_data_converter,
)

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"member_id":"ZZMEMBER123"}')


async def test_round_trip_hides_data_and_metadata_and_names_the_key() -> None:
    codec = EncryptionCodec(Keyring.parse(f"k1:{K1}", source="test"))
    (sealed,) = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert b"ZZMEMBER123" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [PLAIN]


async def test_each_encryption_uses_a_fresh_nonce() -> None:
    codec = EncryptionCodec(Keyring.parse(f"k1:{K1}", source="test"))
    first, second = await codec.encode([PLAIN, PLAIN])
    assert first.data != second.data


async def test_rotation_encrypts_with_the_current_key_and_decrypts_with_any() -> None:
    old = EncryptionCodec(Keyring.parse(f"k1:{K1}", source="test"))
    (sealed_old,) = await old.encode([PLAIN])
    rotated = EncryptionCodec(Keyring.parse(f"k1:{K1},k2:{K2}", "k2", source="test"))
    (sealed_new,) = await rotated.encode([PLAIN])
    assert sealed_new.metadata[KEY_ID_METADATA] == b"k2"
    assert await rotated.decode([sealed_old, sealed_new]) == [PLAIN, PLAIN]
    with pytest.raises(PayloadDecryptionError, match="unknown key id 'k2'"):
        await old.decode([sealed_new])


async def test_tampering_or_relabelling_fails_authentication() -> None:
    codec = EncryptionCodec(Keyring.parse(f"k1:{K1},k2:{K2}", source="test"))
    (sealed,) = await codec.encode([PLAIN])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(PayloadDecryptionError, match="fails authentication"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_METADATA: b"k2"}, data=sealed.data)
    with pytest.raises(PayloadDecryptionError, match="key 'k2' fails authentication"):
        await codec.decode([relabelled])


async def test_plain_payloads_are_refused_unless_migrating() -> None:
    keyring = Keyring.parse(f"k1:{K1}", source="test")
    (refused,) = await EncryptionCodec(keyring).decode([PLAIN])
    assert refused == Payload(metadata={"encoding": REFUSED_ENCODING})  # a new one each time
    with pytest.raises(KeyError, match="refused/unencrypted-payload"):
        pydantic_data_converter.payload_converter.from_payloads([refused])
    # The Web UI shows them as they are; histories from before encryption still decode.
    assert await EncryptionCodec(keyring).reveal([PLAIN]) == [PLAIN]
    assert await EncryptionCodec(keyring, accept_plain=True).decode([PLAIN]) == [PLAIN]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "test: no payload key given"),
        (f"{K1}", "entry 1: expected 'id:base64key'"),
        ("k1:not base64!", "entry 1 ('k1'): the key is not valid base64"),
        (f"k1:{K1},k2:{base64.b64encode(b'short').decode()}", "entry 2 ('k2'): the key has 5"),
        (f"k1:{K1},k1:{K2}", "entry 2: key id 'k1' is listed twice"),
        (f"bad id:{K1}", "entry 1: expected 'id:base64key'"),
    ],
)
def test_malformed_keys_are_refused_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Keyring.parse(text, source="test")


def test_current_key_must_be_in_the_ring() -> None:
    with pytest.raises(KeyConfigError, match="current payload key id 'k9' is not among"):
        Keyring.parse(f"k1:{K1}", "k9", source="test")


async def test_converter_encrypts_failure_messages_too() -> None:
    codec = EncryptionCodec(Keyring.parse(f"k1:{K1}", source="test"))
    converter = encrypted_data_converter(codec)
    failure = Failure()
    await converter.encode_failure(ApplicationError("no record of member ZZMEMBER123"), failure)
    assert b"ZZMEMBER123" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert "ZZMEMBER123" in str(decoded)
