"""Encryption of every Temporal payload (AES-256-GCM), so the Temporal server, its database and
its Web UI only ever hold ciphertext: case payloads carry PHI.

Each encrypted payload names the key that sealed it in its metadata; a keyring holds the
current key (used to encrypt) and older ones (still able to decrypt), which is how keys rotate.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
# What a refused plain payload decodes to: an encoding no payload converter knows, named so the
# converter's error says why.
REFUSED_ENCODING = b"refused/unencrypted-payload"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class KeyConfigError(ValueError):
    """The payload keys are missing or malformed; the message says which and where."""


class PayloadDecryptionError(ValueError):
    """A payload cannot be decrypted: unknown key id, or tampered or corrupt data."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current_id not in self.keys:
            raise KeyConfigError(
                f"the current payload key id '{self.current_id}' is not among the keys "
                f"({', '.join(sorted(self.keys)) or 'none'})"
            )

    @classmethod
    def parse(cls, text: str, current_id: str | None = None, *, source: str) -> Keyring:
        """Keys written as `id:base64key` separated by commas or new lines; the current key is
        `current_id`, else the first one listed."""
        keys: dict[str, bytes] = {}
        entries = [entry.strip() for entry in re.split(r"[,\n]", text) if entry.strip()]
        for number, entry in enumerate(entries, start=1):
            key_id, sep, encoded = entry.partition(":")
            key_id = key_id.strip()
            where = f"{source}, entry {number}"
            if not sep or not _KEY_ID.fullmatch(key_id):
                raise KeyConfigError(
                    f"{where}: expected 'id:base64key' with an id of letters, digits, '.', "
                    "'_' or '-'"
                )
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except binascii.Error as exc:
                raise KeyConfigError(f"{where} ('{key_id}'): the key is not valid base64") from exc
            if len(key) != KEY_BYTES:
                raise KeyConfigError(
                    f"{where} ('{key_id}'): the key has {len(key)} bytes, AES-256 needs {KEY_BYTES}"
                )
            if key_id in keys:
                raise KeyConfigError(f"{where}: key id '{key_id}' is listed twice")
            keys[key_id] = key
        if not keys:
            raise KeyConfigError(f"{source}: no payload key given")
        return cls(current_id or next(iter(keys)), keys)

    @staticmethod
    def new_entry(key_id: str) -> str:
        """A freshly generated key, in the `id:base64key` form `parse` reads."""
        if not _KEY_ID.fullmatch(key_id):
            raise KeyConfigError(
                f"key id '{key_id}': use 1-64 letters, digits, '.', '_' or '-' (e.g. k2)"
            )
        return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec):
    """Seals each payload (its whole protobuf, metadata included) with the current key; opens
    any payload sealed with a key of the ring.

    A plain payload is refused: it decodes to one no converter reads, so an Update carrying it
    is rejected and a Signal dropped (a decoding error would instead fail the workflow task
    over and over). `accept_plain` lets histories written before encryption was turned on
    decode as they are, while they are migrated."""

    def __init__(self, keyring: Keyring, *, accept_plain: bool = False) -> None:
        self.keyring = keyring
        self._accept_plain = accept_plain
        self._current_id = keyring.current_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._open(payload) for payload in payloads]

    async def reveal(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decode for display (the Web UI's codec endpoint): plain payloads show as they are."""
        return [p if p.metadata.get("encoding") != ENCODING else self._open(p) for p in payloads]

    def _seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(_NONCE_BYTES)
        key_id = self._current_id.encode()
        # The key id is authenticated data: relabelling a payload makes it fail to open.
        sealed = self._ciphers[self._current_id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id}, data=nonce + sealed
        )

    def _open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if self._accept_plain:
                return payload
            return Payload(metadata={"encoding": REFUSED_ENCODING})
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload encrypted with unknown key id '{key_id}': add that key to "
                "DENIALS_PAYLOAD_KEYS"
            )
        nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag as exc:
            raise PayloadDecryptionError(
                f"payload under key '{key_id}' fails authentication: corrupt or tampered"
            ) from exc
        return Payload.FromString(plain)


def encrypted_data_converter(codec: PayloadCodec | None) -> DataConverter:
    """The pydantic converter, with `codec` on every payload and failure messages and stack
    traces moved into encoded attributes (an error message may quote case data)."""
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
