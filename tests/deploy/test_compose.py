"""docker-compose.yml and the Dockerfile: compose accepts the file, Kafka runs in KRaft mode,
the four services come from one image with the local run's ports, wait for their servers and
are healthy when /readyz says so, and their environment is settings the services really read.
The image's install step gives every service what it imports at run time, and nothing of the
dev tools."""

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
from canopy_dev.ports import SERVICE_PORTS

pytestmark = pytest.mark.deploy

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
SettingsLoader = Callable[[Mapping[str, str]], dict[str, ServiceSettings]]
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
    for service in SERVICE_PORTS:
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


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
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


def test_the_services_environment_is_real_settings_pointing_at_the_compose_servers(
    compose: dict[str, Any], setting_names: frozenset[str], settings_from: SettingsLoader
) -> None:
    environments = {service: canopy_environment(compose, service) for service in SERVICE_PORTS}
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
    bases = [argument.split()[0] for name, argument in instructions if name == "FROM"]
    runs = " ".join(argument for name, argument in instructions if name == "RUN")
    variables = re.findall(r"\b(CANOPY_\w+)=", " ".join(a for n, a in instructions if n == "ENV"))

    assert set(bases) == {"python:3.11-slim"}
    assert "uv sync --frozen --no-dev" in runs
    assert ("USER", "10001") in instructions
    assert sorted(variables) == sorted(f"CANOPY_{s.upper()}_HOST" for s in SERVICE_PORTS)
    assert set(variables) <= setting_names


# The workspace packages the image installs (uv's names).
WORKSPACE_RUNTIME_PACKAGES = (
    "canopy-common",
    "canopy-ingestion",
    "canopy-fanout",
    "canopy-notify",
    "canopy-analytics",
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

    probe = (
        "import importlib, importlib.util, sys\n"
        "from canopy_common.db import load_migrations\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(f'canopy_{name}.app')\n"
        "    importlib.import_module(f'canopy_{name}.__main__')\n"
        "    assert load_migrations(f'canopy_{name}'), name\n"
        "    assert 'site-packages' in importlib.util.find_spec(f'canopy_{name}').origin\n"
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
