"""Which servers the tests run against: CANOPY_TEST_BACKEND and whether Docker answers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from canopy_testing import plugin
from canopy_testing.plugin import (
    BackendSelectionError,
    docker_engine_available,
    pg_dsn_for_tests,
    select_backend,
)


@pytest.mark.parametrize(
    ("requested", "docker_available", "expected"),
    [
        (None, True, "containers"),
        (None, False, "local"),
        ("auto", True, "containers"),
        ("auto", False, "local"),
        ("", False, "local"),
        ("local", True, "local"),
        ("local", False, "local"),
        ("containers", True, "containers"),
        (" Containers ", True, "containers"),
        ("LOCAL", False, "local"),
    ],
)
def test_backend_follows_the_request_and_the_docker_engine(
    requested: str | None, docker_available: bool, expected: str
) -> None:
    env = {} if requested is None else {"CANOPY_TEST_BACKEND": requested}
    assert select_backend(env, docker_available) == expected


def test_containers_without_a_docker_engine_is_a_clear_error() -> None:
    with pytest.raises(BackendSelectionError, match="needs a Docker engine"):
        select_backend({"CANOPY_TEST_BACKEND": "containers"}, docker_available=False)


@pytest.mark.parametrize("docker_available", [True, False])
def test_an_unknown_backend_is_refused(docker_available: bool) -> None:
    with pytest.raises(BackendSelectionError, match="expected local, containers or auto"):
        select_backend({"CANOPY_TEST_BACKEND": "kubernetes"}, docker_available)


def test_no_docker_engine_is_detected_here_without_waiting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(plugin, "DOCKER_SOCKET", tmp_path / "docker.sock")
    started = time.monotonic()
    assert docker_engine_available({}) is False
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "docker_host",
    ["tcp://127.0.0.1:1", "unix:///nonexistent/docker.sock", "not a url at all"],
)
def test_an_unreachable_docker_host_means_no_engine_within_seconds(docker_host: str) -> None:
    started = time.monotonic()
    assert docker_engine_available({"DOCKER_HOST": docker_host}) is False
    assert time.monotonic() - started < 10.0


def test_docker_detection_answers_within_seconds_on_this_machine() -> None:
    started = time.monotonic()
    available = docker_engine_available()
    assert time.monotonic() - started < 10.0
    if not os.environ.get("DOCKER_HOST") and not plugin.DOCKER_SOCKET.exists():
        assert available is False  # e.g. the docker CLI without a daemon


def test_tests_get_their_own_database_unless_a_dsn_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CANOPY_PG_DSN", raising=False)
    assert pg_dsn_for_tests({}).endswith("/canopy_test")
    explicit = "postgresql://someone@db.example:5433/elsewhere"
    assert pg_dsn_for_tests({"CANOPY_PG_DSN": explicit}) == explicit
