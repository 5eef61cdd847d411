"""Settings read from container secrets (files), and the database pool sized from the worker's
activity threads (issue 16, items 8 and 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from app.encryption import Keyring
from app.settings import POOL_HEADROOM, Settings, settings_problem
from db.engine import make_engine
from denials.payload_keys import load_keyring
from domain.case import CasePolicy
from domain.root_cause import PatternThresholds

APP_URL = "postgresql+psycopg://denials_app@postgresql:5432/denials"


def secret(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


def refusal(**settings: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**settings)  # type: ignore[arg-type]
    return settings_problem(caught.value)


def test_payload_keys_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = Keyring.new_entry("k1")
    path = secret(tmp_path, "payload_keys", entry + "\n")  # as `echo` writes it
    monkeypatch.setenv("DENIALS_PAYLOAD_KEYS_FILE", str(path))
    settings = Settings(data_dir=tmp_path)
    assert settings.payload_keys is not None
    assert settings.payload_keys.get_secret_value() == entry
    assert entry not in repr(settings)
    assert load_keyring(settings).current_id == "k1"


def test_a_bad_key_file_is_named_in_the_error(tmp_path: Path) -> None:
    path = secret(tmp_path, "payload_keys", "k1:not-a-key")
    settings = Settings(data_dir=tmp_path, payload_keys_file=path)
    with pytest.raises(Exception, match=str(path)):
        load_keyring(settings)


def test_secret_file_problems_say_which_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert refusal(payload_keys_file=missing) == (
        f"invalid settings: DENIALS_PAYLOAD_KEYS_FILE: cannot read {missing}: "
        "No such file or directory"
    )
    empty = secret(tmp_path, "empty", "\n")
    assert refusal(payload_keys_file=empty) == (
        f"invalid settings: DENIALS_PAYLOAD_KEYS_FILE: {empty} is empty"
    )
    both = secret(tmp_path, "keys", Keyring.new_entry("k1"))
    assert refusal(payload_keys_file=both, payload_keys="k2:x") == (
        "invalid settings: set DENIALS_PAYLOAD_KEYS or DENIALS_PAYLOAD_KEYS_FILE, not both"
    )
    password = secret(tmp_path, "password", "s3cret")
    assert refusal(database_password_file=password) == (
        "invalid settings: DENIALS_DATABASE_PASSWORD_FILE needs DATABASE_URL (PostgreSQL)"
    )


def test_database_password_from_a_file(tmp_path: Path) -> None:
    password = secret(tmp_path, "password", "p@ss%word/with:odd chars\n")
    settings = Settings(database_url=APP_URL, database_password_file=password)
    url = make_url(settings.effective_database_url)
    assert (url.username, url.password, url.host, url.database) == (
        "denials_app",
        "p@ss%word/with:odd chars",
        "postgresql",
        "denials",
    )
    assert Settings(database_url=APP_URL).effective_database_url == APP_URL
    unreadable = Settings(database_url=APP_URL, database_password_file=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="DENIALS_DATABASE_PASSWORD_FILE: cannot read"):
        _ = unreadable.effective_database_url


def test_the_pool_has_a_connection_for_every_activity_thread() -> None:
    """Item 9: 16 activity threads used to share a pool of 10 (+10 overflow, opened and closed
    again under load); the pool is now derived from the threads."""
    default = Settings()
    assert default.worker_activity_threads == 16
    assert default.database_pool == 16 + POOL_HEADROOM
    assert Settings(worker_activity_threads=40).database_pool == 40 + POOL_HEADROOM
    assert Settings(worker_activity_threads=40, database_pool_size=64).database_pool == 64
    engine = make_engine(APP_URL, pool_size=default.database_pool)
    try:
        assert engine.pool.size() == default.database_pool  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    assert "DENIALS_WORKER_ACTIVITY_THREADS" in refusal(worker_activity_threads=0)


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings(trusted_proxies="10.0.0.5, 172.30.0.0/24,::1").trusted_proxies
    assert Settings(trusted_proxies="*").trusted_proxies == "*"
    assert refusal(trusted_proxies="10.0.0.5,proxy.local") == (
        "invalid setting DENIALS_TRUSTED_PROXIES: 'proxy.local' is not an IP address or "
        "network (e.g. 10.0.0.5 or 10.0.0.0/24), nor *"
    )


def test_the_case_policy_and_pattern_settings_are_the_domain_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One set of defaults and limits: the domain's (issue 17, item 3); each still settable."""
    settings = Settings()
    assert settings.case_policy() == CasePolicy()
    assert settings.pattern_thresholds() == PatternThresholds()
    monkeypatch.setenv("DENIALS_ESCALATE_DAYS", "9")
    monkeypatch.setenv("DENIALS_PATTERN_THRESHOLD_PROVIDER_CARC", "6")
    settings = Settings()
    assert settings.case_policy().escalate_days == 9
    assert settings.pattern_thresholds().provider_carc == 6
    monkeypatch.setenv("DENIALS_URGENT_DAYS", "-1")  # the domain's limit (>= 0) applies
    with pytest.raises(ValidationError, match="urgent_days"):
        Settings()
