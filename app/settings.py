"""Configuration from environment variables (prefix DENIALS_) and an optional `.env` file."""

from __future__ import annotations

import ipaddress
from copy import copy
from datetime import timedelta, tzinfo
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from app.rule_files import SETTINGS_CONFIG, RuleFileSettings
from domain.case import CasePolicy
from domain.deadlines import time_zone
from domain.root_cause import PatternThresholds
from domain.sign_in import ThrottleRule
from edi.claim837 import Submitter
from workflows.messages import TASK_QUEUE

# Database connections a process needs beside its activity threads: the notification sender,
# the API's requests in `denials up`, health checks (docs/scaling.md, "Activity threads").
POOL_HEADROOM = 4


def settings_problem(error: ValidationError) -> str:
    """A refused setting in the user's words: the variable to change, and why."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        field = Settings.model_fields.get(name)
        alias = field.validation_alias if field else None
        variable = alias.choices[0] if isinstance(alias, AliasChoices) else f"DENIALS_{name}"
        message = str(problem["msg"]).removeprefix("Value error, ")
        where = f"setting {str(variable).upper()}" if name else "settings"
        lines.append(f"invalid {where}: {message}")
    return "\n".join(lines)


def _policy_field(name: str) -> Any:
    """A setting that is CasePolicy's field of that name: one default, one set of limits."""
    return copy(CasePolicy.model_fields[name])


def _pattern_field(name: str) -> Any:
    """A setting that is PatternThresholds' field of that name."""
    return copy(PatternThresholds.model_fields[name])


class Settings(RuleFileSettings):
    model_config = SETTINGS_CONFIG

    data_dir: Path = Field(default=Path(".data"), description="Embedded server and SQLite files")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "DENIALS_DATABASE_URL"),
        description="SQLAlchemy URL; unset means a SQLite file in the data folder",
    )
    database_password_file: Path | None = Field(
        default=None,
        description="File holding the database password (a container secret), used with "
        "DATABASE_URL written without one",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="Bring the database schema up to date when a command starts; false (a "
        "cluster, where the one-shot 'denials migrate' does it) only checks it is current",
    )
    database_pool_size: int | None = Field(
        default=None,
        ge=1,
        description="Connections each engine keeps to PostgreSQL; unset means the worker's "
        f"activity threads + {POOL_HEADROOM}",
    )
    temporal_address: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "DENIALS_TEMPORAL_ADDRESS"),
        description="host:port of a Temporal server; unset means start the embedded dev server",
    )
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    temporal_port: int = Field(default=7233, description="Embedded dev server gRPC port")
    temporal_ui_port: int = Field(default=8233, description="Embedded dev server Web UI port")
    temporal_ui_url: str | None = Field(
        default=None,
        description="Where case pages link to the Temporal Web UI; unset means the embedded one's",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve /metrics on this port of the HTTP host instead of the app's port "
        "(keep it off the published one); unset means on the app's port",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses or networks (comma-separated, '*' for any) of the TLS proxies "
        "whose X-Forwarded-Proto and X-Forwarded-For are believed; unset means none (a local "
        "client could otherwise write its own address into the audit trail and the sign-in "
        "throttle)",
    )

    # Escalation offsets and thresholds: domain.case.CasePolicy's fields, defaults and limits,
    # each settable as DENIALS_<NAME>.
    reminder_days: int = _policy_field("reminder_days")
    escalate_days: int = _policy_field("escalate_days")
    urgent_days: int = _policy_field("urgent_days")
    stalled_after_days: int = _policy_field("stalled_after_days")
    write_off_approval_threshold: Decimal = _policy_field("write_off_approval_threshold")
    follow_up_interval_days: int = _policy_field("follow_up_interval_days")
    follow_up_due_days: int = _policy_field("follow_up_due_days")
    untimed_task_due_days: int = _policy_field("untimed_task_due_days")
    timezone: str = _policy_field("timezone")

    # classification_override_file, payer_rules_file: from RuleFileSettings.
    worker_activity_threads: int = Field(
        default=16, ge=1, description="Threads running a worker's activities"
    )
    workflow_sandbox: bool = Field(
        default=False,
        description="Run case workflows in Temporal's sandbox (the tests and replays always do)",
    )
    submitter: Submitter = Field(
        default_factory=Submitter,
        description="EDI identity and billing provider on 837 files "
        '(DENIALS_SUBMITTER=\'{"submitter_id": "...", "tax_id": "...", ...}\')',
    )

    # Root cause analysis: denials within the trailing window that make a pattern
    # (domain.root_cause.PatternThresholds' fields, defaults and limits).
    pattern_window_days: int = _pattern_field("window_days")
    pattern_threshold_payer_carc: int = _pattern_field("payer_carc")
    pattern_threshold_provider_carc: int = _pattern_field("provider_carc")
    pattern_threshold_procedure_payer: int = _pattern_field("procedure_payer")

    payload_keys: SecretStr | None = Field(
        default=None,
        description="Temporal payload encryption keys, 'id:base64key,...' (32-byte AES keys); "
        "unset means DENIALS_PAYLOAD_KEYS_FILE, else the key file in the data folder",
    )
    payload_keys_file: Path | None = Field(
        default=None,
        description="File holding the payload keys in the same form (a container secret)",
    )
    payload_key_id: str | None = Field(
        default=None, description="Key id encrypting new payloads; unset means the first key"
    )
    accept_unencrypted_payloads: bool = Field(
        default=False,
        description="Let the worker read plain (unencrypted) Temporal payloads: only while "
        "migrating cases started before encryption; otherwise anyone reaching Temporal could "
        "send a case input",
    )
    json_logs: bool = Field(default=False, description="Log JSON lines (for log collectors)")

    session_idle_minutes: int = Field(default=30, ge=1, description="Sign out after inactivity")
    session_max_hours: int = Field(default=12, ge=1, description="Sign out after this long")
    secure_cookies: bool | None = Field(
        default=None, description="Secure session cookie; unset means: when served over HTTPS"
    )
    sign_in_account_limit: int = Field(
        default=5, ge=1, description="Failed sign-ins for one user id that lock it out"
    )
    sign_in_address_limit: int = Field(
        default=20, ge=1, description="Failed sign-ins from one client address that lock it out"
    )
    sign_in_window_minutes: int = Field(
        default=15, ge=1, description="How far back failed sign-ins are counted"
    )
    sign_in_lockout_minutes: int = Field(
        default=15, ge=1, description="How long a lockout lasts (even the right password)"
    )

    # Notifications by e-mail (services.notifications); no host means in the app only.
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no e-mail")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port")
    smtp_tls: Literal["starttls", "implicit", "none"] = Field(
        default="starttls",
        description="starttls (port 587), implicit TLS (port 465) or none (a local relay)",
    )
    smtp_username: str | None = Field(default=None, description="SMTP sign-in, if required")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle the SMTP server's certificate is checked against"
    )
    smtp_from: str = Field(
        default="denials@localhost", description="From address of notification e-mails"
    )
    smtp_timeout_seconds: float = Field(default=15, gt=0, description="Per SMTP conversation")
    public_url: str | None = Field(
        default=None,
        description="The app's address as browsers reach it (behind a proxy, its https "
        "address): e-mailed links, the Temporal Web UI's codec endpoint; unset: the HTTP host "
        "and port",
    )
    notify_digest_hour: int = Field(
        default=7, ge=0, le=23, description="Office hour (DENIALS_TIMEZONE) the digests go out"
    )
    notify_every_seconds: float = Field(
        default=60, gt=0, description="How often the worker looks for notifications to send"
    )
    notify_max_attempts: int = Field(default=5, ge=1, description="Tries per e-mail")

    @field_validator("timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        time_zone(value)  # a clear error naming the setting's value at start-up
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        # uvicorn would take a typo for a host name and silently trust nobody.
        for entry in (part.strip() for part in value.split(",") if part.strip()):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"'{entry}' is not an IP address or network (e.g. 10.0.0.5 or "
                    "10.0.0.0/24), nor *"
                ) from None
        return value

    @model_validator(mode="after")
    def _secrets_from_files(self) -> Settings:
        """Container secrets are files: read them once, at start-up, with a clear error."""
        if self.payload_keys_file is not None:
            if self.payload_keys is not None:
                raise ValueError("set DENIALS_PAYLOAD_KEYS or DENIALS_PAYLOAD_KEYS_FILE, not both")
            self.payload_keys = SecretStr(
                _secret_file(self.payload_keys_file, "DENIALS_PAYLOAD_KEYS_FILE")
            )
        if self.database_password_file is not None and self.database_url is None:
            raise ValueError("DENIALS_DATABASE_PASSWORD_FILE needs DATABASE_URL (PostgreSQL)")
        return self

    @property
    def payload_keys_source(self) -> str:
        """Where the configured keys were read, for error messages."""
        return str(self.payload_keys_file or "DENIALS_PAYLOAD_KEYS")

    @property
    def database_pool(self) -> int:
        """Every activity thread gets a connection without waiting (item 9 of issue 16)."""
        return self.database_pool_size or self.worker_activity_threads + POOL_HEADROOM

    @property
    def tz(self) -> tzinfo:
        return time_zone(self.timezone)

    @property
    def client_address(self) -> str:
        """Where CLI commands reach Temporal: the configured server, else the embedded one."""
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def public_base_url(self) -> str:
        """Where a browser on this machine reaches the HTTP server."""
        host = "127.0.0.1" if self.http_host in ("0.0.0.0", "::") else self.http_host
        return f"http://{host}:{self.http_port}"

    @property
    def link_base(self) -> str:
        """Where links in e-mails point."""
        return (self.public_url or self.public_base_url).rstrip("/")

    @property
    def temporal_ui_base(self) -> str:
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url is None:
            return f"sqlite:///{(self.data_dir / 'denials.db').as_posix()}"
        if self.database_password_file is None:
            return self.database_url
        # Imported here: SQLAlchemy takes ~0.15 s to import, which `denials parse` need not pay.
        from sqlalchemy.engine import make_url

        password = _secret_file(self.database_password_file, "DENIALS_DATABASE_PASSWORD_FILE")
        url = make_url(self.database_url).set(password=password)
        return url.render_as_string(hide_password=False)

    def pattern_thresholds(self) -> PatternThresholds:
        return PatternThresholds(
            window_days=self.pattern_window_days,
            payer_carc=self.pattern_threshold_payer_carc,
            provider_carc=self.pattern_threshold_provider_carc,
            procedure_payer=self.pattern_threshold_procedure_payer,
        )

    def sign_in_rule(self) -> ThrottleRule:
        return ThrottleRule(
            account_limit=self.sign_in_account_limit,
            address_limit=self.sign_in_address_limit,
            window=timedelta(minutes=self.sign_in_window_minutes),
            lockout=timedelta(minutes=self.sign_in_lockout_minutes),
        )

    def case_policy(self) -> CasePolicy:
        return CasePolicy(**{name: getattr(self, name) for name in CasePolicy.model_fields})


def _secret_file(path: Path, variable: str) -> str:
    """A secret file's content without the line end editors and `echo` add."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from None
    if not value:
        raise ValueError(f"{variable}: {path} is empty")
    return value
