"""Where the payload keys come from: DENIALS_PAYLOAD_KEYS, else the key file in the data
folder, which the embedded demo creates on first start (mode 0600). Never from the code."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from app.encryption import EncryptionCodec, KeyConfigError, Keyring
from app.settings import Settings

KEY_FILE_NAME = "payload-keys"
log = logging.getLogger(__name__)


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def load_keyring(settings: Settings, *, create_key_file: bool = False) -> Keyring:
    """The configured keyring; with `create_key_file` (the embedded stack) a missing key file is
    generated, otherwise a missing configuration is an error saying what to set."""
    if settings.payload_keys is not None:
        return Keyring.parse(
            settings.payload_keys.get_secret_value(),
            settings.payload_key_id,
            source=settings.payload_keys_source,
        )
    path = key_file(settings)
    if not path.exists():
        if not create_key_file:
            raise KeyConfigError(
                "no payload encryption key: set DENIALS_PAYLOAD_KEYS ('id:base64key,...', "
                f"32-byte keys) or DENIALS_PAYLOAD_KEYS_FILE, or provide the key file {path} "
                "written by 'denials up'"
            )
        _create_key_file(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyConfigError(f"{path} is readable by others: chmod 600 it")
    return Keyring.parse(path.read_text(), settings.payload_key_id, source=str(path))


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once cannot each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write(Keyring.new_entry("k1") + "\n")
    log.info("generated a payload encryption key in %s", path)


def payload_codec(settings: Settings, *, create_key_file: bool = False) -> EncryptionCodec:
    return EncryptionCodec(
        load_keyring(settings, create_key_file=create_key_file),
        accept_plain=settings.accept_unencrypted_payloads,
    )
