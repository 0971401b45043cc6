"""Pytest plugin: real Postgres, Redis and Apache Kafka for integration tests.

Loaded with ``-p canopy_testing.plugin``. Nothing starts unless a test asks for
``stack`` (directly or through ``pg_pool``/``redis_client``), so unit tests need no servers.

``CANOPY_TEST_BACKEND`` picks where the servers come from:

- ``local``: :class:`~canopy_dev.devstack.LocalStack`, the code behind ``make up``. Servers
  already running are reused; what the session starts, it stops at the end.
- ``containers``: Apache Kafka (KRaft), Postgres and Redis via testcontainers.
- ``auto`` (the default): ``containers`` when a Docker engine answers, else ``local``.

Tests use the database ``canopy_test`` unless ``CANOPY_PG_DSN`` is set.
"""

from __future__ import annotations

import asyncio
import gc
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Literal

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from canopy_common.db import close_pool, create_pool
from canopy_common.redis import close_redis, create_redis
from canopy_common.settings import KafkaSettings, PostgresSettings, RedisSettings
from canopy_dev.devstack import LocalStack, StackEndpoints, dsn_with_database
from canopy_testing.conformance import corpus_dir, corpus_required, missing_corpus_message
from canopy_testing.http import free_port
from canopy_testing.kafka_cluster import KafkaCluster
from canopy_testing.kafka_security import SaslSsl

Backend = Literal["local", "containers"]

BACKEND_VARIABLE = "CANOPY_TEST_BACKEND"
TEST_DATABASE = "canopy_test"
DOCKER_SOCKET = Path("/var/run/docker.sock")
DOCKER_PING_TIMEOUT_S = 2
# Images for the containers backend: Apache Kafka in KRaft mode (Confluent's build, which
# testcontainers' KafkaContainer drives), and the servers' current majors.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
POSTGRES_IMAGE = "postgres:16-alpine"
REDIS_IMAGE = "redis:7-alpine"
CONTAINER_START_TIMEOUT_S = 120


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the AS2 corpus, its tests are skipped with the way to run them (unless CI
    requires it, then they run and fail)."""
    folder = corpus_dir()
    if folder.is_dir() or corpus_required():
        return
    skip = pytest.mark.skip(reason=missing_corpus_message(folder))
    skipped = [item for item in items if item.get_closest_marker("conformance")]
    for item in skipped:
        item.add_marker(skip)
    config.stash[_CORPUS_SKIPS] = len(skipped)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if skipped := terminalreporter.config.stash.get(_CORPUS_SKIPS, 0):
        terminalreporter.write_line(
            f"{skipped} tests skipped. " + missing_corpus_message(corpus_dir()), yellow=True
        )


_CORPUS_SKIPS = pytest.StashKey[int]()


class BackendSelectionError(RuntimeError):
    """``CANOPY_TEST_BACKEND`` asks for something this machine cannot give."""


def select_backend(env: Mapping[str, str], docker_available: bool) -> Backend:
    """Where the test servers come from, per ``CANOPY_TEST_BACKEND`` (see the module doc)."""
    requested = env.get(BACKEND_VARIABLE, "auto").strip().lower() or "auto"
    if requested == "local":
        return "local"
    if requested == "containers":
        if not docker_available:
            raise BackendSelectionError(
                f"{BACKEND_VARIABLE}=containers needs a Docker engine, and none answers "
                "(DOCKER_HOST or /var/run/docker.sock); use local or auto"
            )
        return "containers"
    if requested == "auto":
        return "containers" if docker_available else "local"
    raise BackendSelectionError(
        f"{BACKEND_VARIABLE}={requested!r}: expected local, containers or auto"
    )


def docker_engine_available(env: Mapping[str, str] = os.environ) -> bool:
    """Whether a Docker engine answers a ping (DOCKER_HOST, else the default socket).

    Never raises and never waits longer than a couple of seconds.
    """
    if not env.get("DOCKER_HOST") and not DOCKER_SOCKET.exists():
        return False
    # The docker SDK leaks a socket when it cannot connect; keep that ResourceWarning from
    # failing the session under `filterwarnings = error`.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker  # type: ignore[import-untyped, unused-ignore]

            client = docker.from_env(environment=dict(env), timeout=DOCKER_PING_TIMEOUT_S)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            return False
        finally:
            gc.collect()


def pg_dsn_for_tests(env: Mapping[str, str]) -> str:
    """``CANOPY_PG_DSN`` when set explicitly, else the default server's ``canopy_test``."""
    if dsn := env.get("CANOPY_PG_DSN"):
        return dsn
    return dsn_with_database(PostgresSettings().dsn, TEST_DATABASE)


def _start_containers(resources: ExitStack, scratch: Path) -> StackEndpoints:
    """Postgres, Redis and Apache Kafka (KRaft) in containers, removed when ``resources``
    closes; then the database and topics exactly as the local stack creates them."""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.community.redis import RedisContainer

    postgres = PostgresContainer(
        POSTGRES_IMAGE, username="postgres", password="postgres", dbname=TEST_DATABASE, driver=None
    )
    redis = RedisContainer(REDIS_IMAGE)
    kafka = KafkaContainer(KAFKA_IMAGE).with_kraft()
    postgres.start()
    resources.callback(postgres.stop)
    redis.start()
    resources.callback(redis.stop)
    kafka.start(timeout=CONTAINER_START_TIMEOUT_S)
    resources.callback(kafka.stop)
    redis_host, redis_port = redis.get_container_host_ip(), redis.get_exposed_port(redis.port)
    # Everything answers now, so LocalStack only creates the database and topics.
    return LocalStack(
        scratch,
        PostgresSettings(dsn=postgres.get_connection_url()),
        RedisSettings(url=f"redis://{redis_host}:{redis_port}/0"),
        KafkaSettings(bootstrap_servers=kafka.get_bootstrap_server()),
    ).up()


@pytest.fixture(scope="session")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackEndpoints]:
    """Postgres, Redis and a broker for the session; ``CANOPY_*`` point at them meanwhile."""
    env = os.environ
    backend = select_backend(env, docker_engine_available(env))
    with ExitStack() as resources:
        if backend == "containers":
            endpoints = _start_containers(resources, tmp_path_factory.mktemp("containers"))
        else:
            # Its own run folder: the session stops what it started, never `make up`'s.
            run_dir = Path(env.get("CANOPY_RUN_DIR") or request.config.rootpath / ".run")
            local = LocalStack(
                run_dir / "pytest",
                PostgresSettings(dsn=pg_dsn_for_tests(env)),
                RedisSettings(),
                KafkaSettings(),
                fresh_broker=True,  # a broker the session starts begins empty, as CI's does
            )
            resources.callback(local.down)
            endpoints = local.up()
        patch = resources.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("CANOPY_ENV", "test")
        patch.setenv("CANOPY_PG_DSN", endpoints.pg_dsn)
        patch.setenv("CANOPY_REDIS_URL", endpoints.redis_url)
        patch.setenv("CANOPY_KAFKA_BOOTSTRAP_SERVERS", endpoints.kafka_bootstrap)
        yield endpoints


@pytest.fixture
async def broker_of_its_own(stack: StackEndpoints, tmp_path: Path) -> AsyncIterator[LocalStack]:
    """A stack whose broker is the test's own, not started yet (``up()`` starts Kafka on a
    free port, its data in the test's folder; ``down()`` stops it): for tests that take the
    broker away or start without one. Postgres and Redis are the session's. Stopped at the
    end whatever happens."""
    local = LocalStack(
        tmp_path / "run",
        PostgresSettings(dsn=stack.pg_dsn),
        RedisSettings(url=stack.redis_url),
        KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", partitions=2),
    )
    try:
        yield local
    finally:
        await asyncio.to_thread(local.down)


@pytest.fixture(scope="session")
def kafka_settings(stack: StackEndpoints) -> KafkaSettings:
    """Settings for the session's broker, 2 partitions per topic to keep tests quick."""
    return KafkaSettings(bootstrap_servers=stack.kafka_bootstrap, partitions=2)


@pytest.fixture(scope="session")
def sasl_ssl_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A Kafka node of the session's own, started on first use (about 6 s), whose one
    listener takes SASL_SSL only: SCRAM-SHA-512 and a client certificate (mutual TLS), with a CA,
    certificates and users made for it. ``client_settings()`` gives a client's settings."""
    folder = tmp_path_factory.mktemp("kafka-sasl-ssl")
    with KafkaCluster(
        folder, partitions=2, size=1, sasl_ssl=SaslSsl(client_certificate=True)
    ) as cluster:
        yield cluster


# Shows a test's figures (one or more lines) under a name: ``report_figures(name, figures)``.
ReportFigures = Callable[[str, str], None]


@pytest.fixture
def report_figures(record_property: Callable[[str, object], None]) -> ReportFigures:
    """Print a test's figures (seen with ``-s`` or on failure) and keep them as a property of
    its JUnit report."""

    def report(name: str, figures: str) -> None:
        print(figures)
        record_property(name, figures)

    return report


@pytest.fixture
def tenant_id() -> str:
    """A tenant of its own for each test, so tests never see each other's data."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_pool(stack: StackEndpoints) -> AsyncIterator[asyncpg.Pool[asyncpg.Record]]:
    """A pool to the session's Postgres (JSON codecs as the services have them)."""
    pool = await create_pool(PostgresSettings(dsn=stack.pg_dsn, pool_max_size=5))
    yield pool
    await close_pool(pool)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def redis_client(stack: StackEndpoints) -> AsyncIterator[Redis]:
    """A client to the session's Redis (bytes in, bytes out, as the services have it)."""
    client = create_redis(RedisSettings(url=stack.redis_url))
    yield client
    await close_redis(client)
