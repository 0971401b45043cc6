"""docker-compose.yml and the Dockerfile: compose accepts the file, Kafka runs in KRaft mode,
the four services and the web client come from one image with the local run's ports, wait for
what they need and are healthy when /readyz says so, and their environment is settings they
really read. The image's install step gives every service what it imports at run time, and
nothing of the dev tools; the web client gets its npm packages from the lock."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from canopy_common.settings import ServiceSettings
from canopy_dev.devstack.kafka import KraftNode
from canopy_dev.ports import API_SERVICES, SERVICE_PORTS
from canopy_web.settings import Settings as WebSettings

pytestmark = pytest.mark.deploy

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
SettingsLoader = Callable[[Mapping[str, str]], dict[str, ServiceSettings]]
WebSettingsLoader = Callable[[Mapping[str, str]], WebSettings]
# Broker settings the local run chooses (docs/kafka.md) that compose's broker must share.
SHARED_BROKER_SETTINGS = (
    "group.initial.rebalance.delay.ms",
    "default.replication.factor",
    "min.insync.replicas",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
    "num.partitions",
)


def canopy_environment(compose: dict[str, Any], service: str) -> dict[str, str]:
    """The CANOPY_* variables compose gives ``service`` (those passed from the shell left out)."""
    environment = compose["services"][service]["environment"]
    return {k: str(v) for k, v in environment.items() if k.startswith("CANOPY_") and v is not None}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for parts in (line.split(None, 1) for line in lines if line and not line.startswith("#"))
    ]


def test_docker_compose_accepts_the_file(docker_compose: str) -> None:
    done = subprocess.run(
        [docker_compose, "--project-directory", str(REPO_ROOT), "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # no warnings either (a variable that is not set)


def test_kafka_is_a_single_kraft_node_creating_topics_like_the_services(
    compose: dict[str, Any],
) -> None:
    kafka = compose["services"]["kafka"]
    environment = kafka["environment"]

    assert kafka["image"].startswith("apache/kafka:")
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in environment["KAFKA_ADVERTISED_LISTENERS"]
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "true"
    for service in API_SERVICES:
        partitions = canopy_environment(compose, service)["CANOPY_KAFKA_PARTITIONS"]
        assert environment["KAFKA_NUM_PARTITIONS"] == partitions
    assert "healthcheck" in kafka


def test_kafka_is_the_version_and_settings_of_the_local_run(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    pom = ElementTree.parse(REPO_ROOT / "deploy" / "kafka" / "pom.xml")
    version = pom.findtext("{http://maven.apache.org/POM/4.0.0}properties/{*}kafka.version")
    local_node = KraftNode(1, "127.0.0.1", 9092, 9093, Path("unused"))
    local = local_node.properties([local_node], partitions=12)

    assert kafka["image"] == f"apache/kafka:{version}"
    assert f"Apache Kafka {version}" in (REPO_ROOT / "README.md").read_text()
    assert f"Apache Kafka {version}" in (REPO_ROOT / "docs" / "kafka.md").read_text()
    for name in SHARED_BROKER_SETTINGS:
        variable = "KAFKA_" + name.upper().replace(".", "_")
        assert kafka["environment"][variable] == local[name], name


@pytest.mark.parametrize("service", sorted(API_SERVICES))
def test_each_service_runs_from_the_one_image_migrated_and_healthy_when_ready(
    compose: dict[str, Any], service: str
) -> None:
    spec = compose["services"][service]
    port = SERVICE_PORTS[service]
    images = {compose["services"][s]["image"] for s in SERVICE_PORTS}
    builds = {str(compose["services"][s]["build"]) for s in SERVICE_PORTS}

    assert images == {spec["image"]}
    assert builds == {"."}
    assert spec["command"] == [
        "sh",
        "-c",
        f"python -m canopy_{service} migrate && exec python -m canopy_{service} all",
    ]
    assert spec["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"])
    waits_for = {
        name for name, c in spec["depends_on"].items() if c == {"condition": "service_healthy"}
    }
    assert {"kafka", "postgres", "redis"} <= waits_for
    assert all("healthcheck" in compose["services"][name] for name in waits_for)


def test_the_web_client_runs_from_the_one_image_once_redis_and_the_services_are_ready(
    compose: dict[str, Any],
) -> None:
    spec = compose["services"]["web"]
    port = SERVICE_PORTS["web"]
    waits_for = {
        name for name, c in spec["depends_on"].items() if c == {"condition": "service_healthy"}
    }

    assert spec["image"] == compose["services"]["ingestion"]["image"]
    assert str(spec["build"]) == "."
    assert spec["command"] == ["python", "-m", "canopy_web"]  # nothing to migrate
    assert spec["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"])
    assert waits_for == {"redis", *API_SERVICES}  # no Postgres, no Kafka


def test_the_web_client_calls_the_compose_services_with_the_services_keys(
    compose: dict[str, Any], setting_names: frozenset[str], web_settings_from: WebSettingsLoader
) -> None:
    environment = canopy_environment(compose, "web")
    shared = canopy_environment(compose, "ingestion")

    settings = web_settings_from(environment)

    assert set(environment) - setting_names == set()
    assert "CANOPY_JWT_SECRET" in compose["services"]["web"]["environment"]  # from the shell
    assert {k: v for k, v in shared.items() if k.startswith("CANOPY_JWT_")} == {
        k: v for k, v in environment.items() if k.startswith("CANOPY_JWT_")
    }
    assert settings.redis.url == "redis://redis:6379/0"
    assert {name: getattr(settings, f"{name}_url") for name in API_SERVICES} == {
        name: f"http://{name}:{SERVICE_PORTS[name]}" for name in API_SERVICES
    }
    assert settings.public_url == f"http://127.0.0.1:{SERVICE_PORTS['web']}"


def test_the_services_environment_is_real_settings_pointing_at_the_compose_servers(
    compose: dict[str, Any], setting_names: frozenset[str], settings_from: SettingsLoader
) -> None:
    environments = {service: canopy_environment(compose, service) for service in API_SERVICES}
    (environment,) = {tuple(sorted(e.items())) for e in environments.values()}

    loaded = settings_from(dict(environment))

    assert set(dict(environment)) - setting_names == set()
    postgres = compose["services"]["postgres"]["environment"]
    for service, settings in loaded.items():
        assert settings.kafka.bootstrap_servers == "kafka:9092", service
        assert settings.kafka.enable_idempotence is True, service
        assert settings.postgres.dsn == (
            f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
            f"@postgres:5432/{postgres['POSTGRES_DB']}"
        )
        assert settings.redis.url == "redis://redis:6379/0"


def test_prometheus_and_grafana_mount_files_that_exist(compose: dict[str, Any]) -> None:
    mounted = [
        volume.split(":", 1)[0]
        for name in ("prometheus", "grafana")
        for volume in compose["services"][name]["volumes"]
        if volume.startswith("./")
    ]

    assert [path for path in mounted if not (REPO_ROOT / path).exists()] == []
    assert len(mounted) == 5


def test_the_dockerfile_builds_one_python_3_11_image_with_uv_and_no_dev_dependencies(
    setting_names: frozenset[str],
) -> None:
    instructions = dockerfile_instructions()
    stages = {
        words[-1]: words[0]
        for name, argument in instructions
        if name == "FROM" and (words := argument.split())
    }
    runs = " ".join(argument for name, argument in instructions if name == "RUN")
    environment = " ".join(a for n, a in instructions if n == "ENV")
    variables = re.findall(r"\b(CANOPY_\w+)=", environment)

    # The Python stages, and a Node one that only installs the web client's npm packages.
    assert {base for stage, base in stages.items() if stage != "assets"} == {"python:3.11-slim"}
    assert stages["assets"].startswith("node:")
    assert "uv sync --frozen --no-dev" in runs
    assert ("USER", "10001") in instructions
    assert sorted(variables) == sorted(
        [*(f"CANOPY_{s.upper()}_HOST" for s in SERVICE_PORTS), "CANOPY_WEB_ASSETS_DIR"]
    )
    assert set(variables) <= setting_names


def test_the_image_serves_the_web_clients_npm_packages_from_the_lock_without_dev_ones() -> None:
    instructions = dockerfile_instructions()
    runs = [a for n, a in instructions if n == "RUN"]
    copies = [a.split() for n, a in instructions if n == "COPY"]
    (assets_dir,) = re.findall(
        r"\bCANOPY_WEB_ASSETS_DIR=(\S+)", " ".join(a for n, a in instructions if n == "ENV")
    )

    assert ["services/web/package.json", "services/web/package-lock.json", "./"] in copies
    assert any(r.startswith("npm ci") and "--omit=dev" in r for r in runs)
    assert ["--from=assets", "/assets/node_modules", assets_dir] in copies
    assert "**/node_modules/" in (REPO_ROOT / ".dockerignore").read_text().split()


# The workspace packages the image installs (uv's names).
WORKSPACE_RUNTIME_PACKAGES = (
    "canopy-common",
    "canopy-ingestion",
    "canopy-fanout",
    "canopy-notify",
    "canopy-analytics",
    "canopy-web",
)


def test_the_images_install_step_gives_every_service_what_it_needs_and_no_dev_tool(
    tmp_path: Path,
) -> None:
    """The Dockerfile's `uv sync` into an empty environment: each service's app and CLI
    import there (a run-time import of a dev-only package fails here), and each finds its
    migrations inside the installed (not editable) package."""
    syncs = [a for n, a in dockerfile_instructions() if n == "RUN" and a.startswith("uv sync")]
    sync = syncs[-1]  # the one installing Canopy itself
    assert "--no-editable" in sync
    assert "--no-install-workspace" not in sync
    # `uv run` says which uv it is; scripts/setup.sh may have installed it off PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: run the tests with `uv run pytest`")
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environment |= {
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    # uv keeps a local package's built wheel until its pyproject.toml changes: rebuild ours
    # from the source as the image build (no cache) does.
    rebuilt = [f"--reinstall-package={p}" for p in WORKSPACE_RUNTIME_PACKAGES]
    done = subprocess.run(
        [uv, *sync.split()[1:], *rebuilt, "--quiet"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    # The web client has no migrations: its templates and static files ship in the package.
    probe = (
        "import importlib, importlib.util, pathlib, sys\n"
        "from canopy_common.db import load_migrations\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(f'canopy_{name}.app')\n"
        "    importlib.import_module(f'canopy_{name}.__main__')\n"
        "    assert 'site-packages' in importlib.util.find_spec(f'canopy_{name}').origin\n"
        "    if name != 'web':\n"
        "        assert load_migrations(f'canopy_{name}'), name\n"
        "web = pathlib.Path(importlib.util.find_spec('canopy_web').origin).parent\n"
        "assert (web / 'templates' / 'base.html').is_file()\n"
        "assert (web / 'static' / 'canopy.js').is_file()\n"
        "for dev in ('canopy_dev', 'canopy_testing', 'pytest', 'supervisor', 'testcontainers'):\n"
        "    assert importlib.util.find_spec(dev) is None, dev\n"
    )
    python = tmp_path / "venv/bin/python"
    checked = subprocess.run(
        [str(python), "-c", probe, *SERVICE_PORTS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
