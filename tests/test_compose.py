"""docker-compose.yml (Docker does not run here): the services of the scale-out deployment,
their images, environment, start order and health checks, and the image they build."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from denials.config import Settings

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "search-attributes", "worker", "api")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]  # type: ignore[no-any-return]


def needs(service: dict[str, Any]) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in service.get("depends_on", {}).items()}


def test_the_deployment_has_its_services_on_pinned_images(services: dict[str, Any]) -> None:
    assert set(services) == {"postgresql", "temporal", "temporal-ui", *APP_SERVICES}
    assert services["postgresql"]["image"] == "postgres:16"
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    for name in ("postgresql", "temporal", "temporal-ui"):
        tag = services[name]["image"].partition(":")[2]
        assert tag and tag != "latest", f"{name}: pin the image version"
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
    assert services["worker"]["command"] == ["denials", "worker"]
    assert services["api"]["command"] == ["denials", "api"]
    assert services["search-attributes"]["command"] == ["denials", "search-attributes"]
    assert services["migrate"]["command"] == ["denials", "migrate"]


def test_temporal_persists_in_the_postgresql_service(services: dict[str, Any]) -> None:
    temporal = services["temporal"]["environment"]
    database = services["postgresql"]["environment"]
    assert temporal["DB"] == "postgres12"
    assert temporal["POSTGRES_SEEDS"] == "postgresql"
    assert (temporal["POSTGRES_USER"], temporal["POSTGRES_PWD"]) == (
        database["POSTGRES_USER"],
        database["POSTGRES_PASSWORD"],
    )


def test_app_services_reach_the_cluster_with_settings_the_app_reads(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgresql:5432/" in env["DATABASE_URL"]
        # The key comes from the host's environment, required, never written in the file.
        assert env["DENIALS_PAYLOAD_KEYS"].startswith("${DENIALS_PAYLOAD_KEYS:?")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("DENIALS_PAYLOAD_KEYS", "k1:" + "A" * 43 + "=")
        settings = Settings()
        assert settings.temporal_address == "temporal:7233"
        assert settings.json_logs
    assert services["api"]["environment"]["DENIALS_HTTP_HOST"] == "0.0.0.0"
    assert services["api"]["ports"] == ["8000:8000"]


def test_the_web_ui_decrypts_through_the_app_codec_endpoint(services: dict[str, Any]) -> None:
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == "http://localhost:8000/api/v1/codec"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    # The app allows CORS from where the UI is published.
    published = services["temporal-ui"]["ports"][0].split(":")[0]
    assert services["api"]["environment"]["DENIALS_TEMPORAL_UI_URL"] == (
        f"http://localhost:{published}"
    )


def test_start_order_waits_for_health_and_setup(services: dict[str, Any]) -> None:
    assert needs(services["temporal"]) == {"postgresql": "service_healthy"}
    assert needs(services["temporal-ui"]) == {"temporal": "service_healthy"}
    assert needs(services["migrate"]) == {"postgresql": "service_healthy"}
    assert needs(services["search-attributes"]) == {"temporal": "service_healthy"}
    after_setup = {
        "temporal": "service_healthy",
        "migrate": "service_completed_successfully",
        "search-attributes": "service_completed_successfully",
    }
    assert needs(services["worker"]) == after_setup
    assert needs(services["api"]) == after_setup
    for name in ("postgresql", "temporal", "api"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and check["retries"] >= 10, name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])


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
