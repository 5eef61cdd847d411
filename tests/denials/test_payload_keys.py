"""Where payload keys come from: settings, else the data folder's key file (made by the demo)."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.encryption import KeyConfigError
from app.settings import Settings
from denials.cli import app
from denials.payload_keys import key_file, load_keyring

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()


def test_keys_from_settings_with_current_id(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, payload_keys=f"k1:{K1},k2:{K2}", payload_key_id="k2")
    ring = load_keyring(settings)
    assert (ring.current_id, sorted(ring.keys)) == ("k2", ["k1", "k2"])
    assert not key_file(settings).exists()


def test_separate_processes_refuse_to_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="set DENIALS_PAYLOAD_KEYS"):
        load_keyring(Settings(data_dir=tmp_path))


def test_embedded_stack_generates_a_private_key_file_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_keyring(settings, create_key_file=True)
    path = key_file(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_keyring(settings, create_key_file=True)
    assert first == again  # the same key on every start: old cases stay readable
    assert load_keyring(settings) == first  # and `denials worker` on this folder reads it


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    load_keyring(settings, create_key_file=True)
    key_file(settings).chmod(0o644)
    with pytest.raises(KeyConfigError, match="readable by others: chmod 600"):
        load_keyring(settings)


def test_worker_command_refuses_to_start_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("DENIALS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DENIALS_PAYLOAD_KEYS", raising=False)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "DENIALS_PAYLOAD_KEYS" in result.output


def test_up_refuses_a_malformed_key_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    monkeypatch.setenv("DENIALS_PAYLOAD_KEYS", f"k1:{K1},k2:c2hvcnQ=")
    result = CliRunner().invoke(app, ["up", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "entry 2 ('k2'): the key has 5 bytes" in " ".join(result.output.split())
    assert not (tmp_path / "payload-keys").exists()
