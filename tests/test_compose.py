"""docker-compose.yml (Docker does not run here): the file against the Compose Specification,
its images pinned, its secrets in files, its start order, and the app settings it sets. The
start-up sequence itself runs in tests/test_compose_startup.py.

tests/data/compose-spec.json is schema/compose-spec.json of github.com/compose-spec/compose-spec
at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6 (2026-06-23), unchanged."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from pydantic import AliasChoices
from sqlalchemy.engine import make_url

from app.encryption import Keyring
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"
APP_SERVICES = ("migrate", "search-attributes", "worker", "api")
RUNTIME = ("worker", "api")
# Components of an exact version tag: PostgreSQL numbers its releases major.minor.
EXACT_PARTS = {"postgres": 2}
SECRET_WORDS = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|KEYS?$|KEYS_")
# Named like secrets, but a key's id and an on/off switch.
NOT_SECRETS = {"DENIALS_PAYLOAD_KEY_ID", "TEMPORAL_CODEC_PASS_ACCESS_TOKEN"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]  # type: ignore[no-any-return]


def needs(service: dict[str, Any]) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in service.get("depends_on", {}).items()}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` and `$$`, as `docker compose` resolves them."""

    def one(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(":-")
        return env.get(name) or default

    return re.sub(r"\$\{([^}]+)\}", one, value).replace("$$", "$")


def problems(document: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    return [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert problems(compose) == []
    # The check can fail: the mistakes one makes by hand are refused.
    broken = copy.deepcopy(compose)
    broken["services"]["worker"]["depends_on"]["migrate"]["condition"] = "service_done"
    broken["services"]["api"]["ports"] = "8000:8000"
    broken["services"]["api"]["helthcheck"] = {}
    found = problems(broken)
    # (worker and api share one depends_on block)
    assert {p.partition(":")[0] for p in found} == {
        "services/worker/depends_on",
        "services/api/depends_on",
        "services/api/ports",
        "services/api",
    }, found


def test_every_image_is_pinned_to_an_exact_version(services: dict[str, Any]) -> None:
    images = {name: service["image"] for name, service in services.items()}
    dockerfile = (ROOT / "Dockerfile").read_text()
    [base] = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    for where, image in [*images.items(), ("Dockerfile", base)]:
        repository, _, tag = image.rpartition(":")
        if repository == "denials":  # built from this checkout by `build: .`
            assert services[where]["build"] == "." and tag != "latest", where
            continue
        parts = EXACT_PARTS.get(repository, 3)
        version = rf"\d+(\.\d+){{{parts - 1}}}"
        assert re.fullmatch(rf"{version}(-[a-z0-9.]+)*", tag), f"{where}: {image} is not exact"
    assert images["temporal"].startswith("temporalio/server:")  # not the deprecated auto-setup
    # admin-tools runs the schema setup of the same server release.
    server_version = images["temporal"].partition(":")[2]
    assert images["temporal-schema"] == f"temporalio/admin-tools:{server_version}"
    assert images["temporal-namespace"] == images["temporal-schema"]
    assert base.startswith("python:3.11.")


def test_no_secret_is_in_the_environment(compose: dict[str, Any], services: dict[str, Any]) -> None:
    """Secrets are files under /run/secrets (not in `docker inspect`): every *_FILE variable
    names a secret the service mounts, which the file declares from ./secrets."""
    declared = compose["secrets"]
    assert all(entry["file"] == f"./secrets/{name}" for name, entry in declared.items())
    for name, service in services.items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), name
        for key, value in service.get("environment", {}).items():
            if key.endswith("_FILE"):
                assert value.startswith("/run/secrets/"), (name, key)
                assert value.removeprefix("/run/secrets/") in mounted, (name, key)
            else:
                assert not SECRET_WORDS.search(key) or key in NOT_SECRETS, (name, key)
            if key == "DATABASE_URL":
                assert make_url(value).password is None, name
    temporal = services["temporal"]
    assert "POSTGRES_PWD" not in temporal["environment"]
    assert "/run/secrets/temporal_db_password" in " ".join(temporal["entrypoint"])


def test_each_component_connects_as_its_own_role(services: dict[str, Any]) -> None:
    def role(name: str) -> str | None:
        return make_url(services[name]["environment"]["DATABASE_URL"]).username

    assert role("migrate") == "denials_owner"
    assert {role(name) for name in RUNTIME} == {"denials_app"}
    assert services["temporal"]["environment"]["POSTGRES_USER"] == "temporal"
    assert "DATABASE_URL" not in services["search-attributes"]["environment"]
    # Only the worker and the API hold the payload keys; the one-shot steps need none.
    holders = {name for name, s in services.items() if "payload_keys" in s.get("secrets", [])}
    assert holders == set(RUNTIME)
    init = services["postgresql"]["volumes"][1]
    assert init.startswith("./deploy/postgres/init-roles.sh:/docker-entrypoint-initdb.d/")


def test_start_order_and_one_shot_setup(services: dict[str, Any]) -> None:
    assert needs(services["temporal-schema"]) == {"postgresql": "service_healthy"}
    assert needs(services["temporal"]) == {"temporal-schema": "service_completed_successfully"}
    assert needs(services["temporal-namespace"]) == {"temporal": "service_healthy"}
    assert needs(services["search-attributes"]) == {
        "temporal-namespace": "service_completed_successfully"
    }
    assert needs(services["migrate"]) == {"postgresql": "service_healthy"}
    after_setup = {
        "migrate": "service_completed_successfully",
        "search-attributes": "service_completed_successfully",
    }
    assert needs(services["worker"]) == after_setup
    assert needs(services["api"]) == after_setup
    for one_shot in ("temporal-schema", "temporal-namespace", "migrate", "search-attributes"):
        assert services[one_shot]["restart"] == "no", one_shot
    assert services["search-attributes"]["command"][:2] == ["denials", "search-attributes"]
    assert services["migrate"]["command"] == ["denials", "migrate"]
    for name in APP_SERVICES:
        assert services[name]["environment"]["DENIALS_MIGRATE_ON_START"] == "false", name
    for name in ("postgresql", "temporal", "api"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and check["retries"] >= 10, name
        assert "tctl" not in check["test"], name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert "127.0.0.1" in services["postgresql"]["healthcheck"]["test"]  # TCP, not the socket


def test_metrics_have_their_own_unpublished_port(services: dict[str, Any]) -> None:
    api = services["api"]
    metrics = api["environment"]["DENIALS_METRICS_PORT"]
    assert api["ports"] == ["8000:8000"]
    assert all(
        metrics not in str(port) for name in services for port in services[name].get("ports", [])
    )
    assert api["expose"] == [metrics]


def test_public_urls_and_proxies_are_settings(services: dict[str, Any]) -> None:
    behind_proxy = {
        "DENIALS_PUBLIC_URL": "https://cases.example.org",
        "DENIALS_TEMPORAL_UI_URL": "https://temporal.example.org",
        "DENIALS_TRUSTED_PROXIES": "172.30.0.10",
    }
    ui = services["temporal-ui"]["environment"]
    api = services["api"]["environment"]
    assert interpolate(ui["TEMPORAL_CODEC_ENDPOINT"], behind_proxy) == (
        "https://cases.example.org/api/v1/codec"
    )
    for key, value in behind_proxy.items():
        assert interpolate(api[key], behind_proxy) == value
    # Unset, the local defaults: the app's and the UI's published ports.
    assert interpolate(ui["TEMPORAL_CODEC_ENDPOINT"], {}) == "http://localhost:8000/api/v1/codec"
    published = services["temporal-ui"]["ports"][0].split(":")[0]
    assert interpolate(api["DENIALS_TEMPORAL_UI_URL"], {}) == f"http://localhost:{published}"
    assert interpolate(api["DENIALS_TRUSTED_PROXIES"], {}) == "127.0.0.1"


def known_variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        else:
            names.add(f"DENIALS_{name.upper()}")
    return names


def test_the_app_services_read_every_setting_they_are_given(
    services: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No misspelt variable is silently ignored, and each service's settings load as given,
    with its secret files in place."""
    secrets = {
        "denials_app_db_password": "app-pw",
        "denials_owner_db_password": "owner-pw",
        "payload_keys": Keyring.new_entry("k1"),
    }
    for name, value in secrets.items():
        (tmp_path / name).write_text(value + "\n")
    for name in APP_SERVICES:
        env = {k: interpolate(v, {}) for k, v in services[name]["environment"].items()}
        assert set(env) - {"TEMPORAL_ADDRESS", "DATABASE_URL"} <= known_variables(), name
        with monkeypatch.context() as scoped:
            for key, value in env.items():
                scoped.setenv(key, value.replace("/run/secrets", str(tmp_path)))
            settings = Settings()
        assert settings.temporal_address == "temporal:7233" and settings.json_logs, name
        assert not settings.migrate_on_start, name
        if name in RUNTIME:
            url = make_url(settings.effective_database_url)
            assert (url.username, url.password) == ("denials_app", "app-pw"), name
            assert settings.payload_keys is not None
            assert settings.payload_keys.get_secret_value() == secrets["payload_keys"]
    api = services["api"]["environment"]
    assert api["DENIALS_HTTP_HOST"] == "0.0.0.0"


def test_workers_scale_out_as_replicas(services: dict[str, Any]) -> None:
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "ports" not in services["worker"]  # replicas cannot share a published port


def test_app_services_share_one_data_folder(services: dict[str, Any]) -> None:
    """Packets and the outbox written by a worker are served by the API: every app service
    mounts the same named volume at DENIALS_DATA_DIR, which the image lets `nobody` write."""
    mounts = {name: services[name].get("volumes") for name in APP_SERVICES}
    assert mounts == {name: ["app-data:/data"] for name in APP_SERVICES}
    assert {services[name]["environment"]["DENIALS_DATA_DIR"] for name in APP_SERVICES} == {"/data"}
    assert "chown nobody /data" in (ROOT / "Dockerfile").read_text()


def test_the_image_contains_every_package_of_the_project() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert packages <= copied, f"Dockerfile misses {sorted(packages - copied)}"


def test_the_temporal_server_takes_its_password_from_the_secret(
    services: dict[str, Any], tmp_path: Path
) -> None:
    """The server's entrypoint line, run with `env` standing in for the image's entrypoint."""
    (tmp_path / "temporal_db_password").write_text("t-secret\n")
    shell, flag, line = services["temporal"]["entrypoint"]
    line = interpolate(line, {}).replace("/run/secrets", str(tmp_path))
    line = line.replace("exec /etc/temporal/entrypoint.sh", "exec env")
    shown = subprocess.run([shell, flag, line], capture_output=True, text=True, check=True)
    assert "POSTGRES_PWD=t-secret\n" in shown.stdout


def test_the_schema_step_sets_up_then_upgrades_both_databases(
    services: dict[str, Any], tmp_path: Path
) -> None:
    """deploy/temporal/setup-schema.sh with a stand-in temporal-sql-tool that records its calls
    (the real one is only in the admin-tools image)."""
    (tmp_path / "temporal_db_password").write_text("t-secret\n")
    tool = tmp_path / "bin" / "temporal-sql-tool"
    tool.parent.mkdir()
    tool.write_text('#!/bin/sh\necho "$SQL_PASSWORD $*" >>"$CALLS"\n')
    tool.chmod(0o755)
    calls = tmp_path / "calls"
    step = services["temporal-schema"]
    env = {
        **{key: str(value) for key, value in step["environment"].items()},
        "PATH": f"{tool.parent}:/usr/bin:/bin",
        "SECRETS_DIR": str(tmp_path),
        "CALLS": str(calls),
    }
    script = ROOT / "deploy" / "temporal" / "setup-schema.sh"
    assert step["volumes"] == [f"./{script.relative_to(ROOT)}:/deploy/setup-schema.sh:ro"]
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    common = "t-secret --plugin postgres12 --ep postgresql -p 5432 -u temporal --db"
    schemas = "/etc/temporal/schema/postgresql/v12"
    assert calls.read_text().splitlines() == [
        f"{common} temporal setup-schema -v 0.0",
        f"{common} temporal update-schema -d {schemas}/temporal/versioned",
        f"{common} temporal_visibility setup-schema -v 0.0",
        f"{common} temporal_visibility update-schema -d {schemas}/visibility/versioned",
    ]
    # A failing step stops the script: the server does not start on a half-made schema.
    tool.write_text("#!/bin/sh\nexit 3\n")
    failed = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert failed.returncode == 3
