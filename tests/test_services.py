"""Every service skeleton against the real stack: its CLI migrates idempotently, its app starts
ready with health and metrics, and its consumer applies each activity once and dead-letters
poison while the partition keeps flowing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from canopy_analytics.app import DEFINITION as ANALYTICS
from canopy_analytics.settings import Settings as AnalyticsSettings
from canopy_common.db import load_migrations
from canopy_common.events import encode
from canopy_common.kafka import Producer, ensure_topics
from canopy_common.service import Mode, ServiceDefinition, create_service_app
from canopy_common.settings import KafkaSettings, ServiceSettings
from canopy_dev.devstack import LocalStack
from canopy_fanout.app import DEFINITION as FANOUT
from canopy_fanout.settings import Settings as FanoutSettings
from canopy_ingestion.app import DEFINITION as INGESTION
from canopy_ingestion.settings import Settings as IngestionSettings
from canopy_notify.app import DEFINITION as NOTIFY
from canopy_notify.settings import Settings as NotifySettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.http import serve
from canopy_testing.kafka import committed_offsets, read_topic
from canopy_testing.polling import eventually
from canopy_testing.services import isolated_settings, wait_ready

pytestmark = pytest.mark.integration

SERVICES: dict[str, tuple[ServiceDefinition[Any, Any], type[ServiceSettings]]] = {
    "ingestion": (INGESTION, IngestionSettings),
    "fanout": (FANOUT, FanoutSettings),
    "notify": (NOTIFY, NotifySettings),
    "analytics": (ANALYTICS, AnalyticsSettings),
}
# Services consuming canonical activities: each validates, records the id once, dead-letters
# poison. (Ingestion applies upstream events; its own tests cover its consumer, and fanout's
# tests cover what it does with each activity.)
SKELETON_CONSUMERS = ["analytics", "fanout", "notify"]


@dataclass
class Service:
    definition: ServiceDefinition[Any, Any]
    settings: ServiceSettings

    @property
    def input_topic(self) -> str:
        kafka = self.settings.kafka
        return (
            kafka.topic_upstream if self.definition.name == "ingestion" else kafka.topic_activities
        )


@pytest.fixture(params=sorted(SERVICES))
async def service(
    request: pytest.FixtureRequest, kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> AsyncIterator[Service]:
    """One service with its own schema, topics and consumer group, dropped afterwards."""
    async for built in _service(request.param, kafka_settings, pg_pool):
        yield built


@pytest.fixture(params=SKELETON_CONSUMERS)
async def skeleton_service(
    request: pytest.FixtureRequest, kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> AsyncIterator[Service]:
    """Like ``service``, for the services whose consumer is still the foundation's."""
    async for built in _service(request.param, kafka_settings, pg_pool):
        yield built


async def _service(
    name: str, kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> AsyncIterator[Service]:
    built = isolated_service(name, kafka_settings)
    kafka = built.settings.kafka
    await ensure_topics(kafka, [kafka.topic_upstream, kafka.topic_activities, kafka.topic_dlq])
    yield built
    await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{built.settings.db_schema}" CASCADE')


def isolated_service(name: str, kafka_settings: KafkaSettings) -> Service:
    """The service with a schema, topics and consumer group of its own."""
    definition, settings_class = SERVICES[name]
    settings = isolated_settings(
        settings_class,
        kafka_settings,
        service=definition.name,
        topics=(
            "topic_upstream",
            "topic_activities",
            "topic_impressions",
            "topic_dlq",
            "topic_exports",
            "topic_export_parts",
            "topic_question_experts",
        ),
    )
    return Service(definition, settings)


def run_cli(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_migrate_applies_each_migration_once_and_a_rerun_changes_nothing(
    service: Service, pg_pool: asyncpg.Pool
) -> None:
    name = service.definition.name
    env = {
        f"CANOPY_{name.upper()}_DB_SCHEMA": service.settings.db_schema,
        "CANOPY_LOG_JSON": "true",
    }

    first = run_cli(f"canopy_{name}", "migrate", env=env)
    second = run_cli(f"canopy_{name}", "migrate", env=env)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "0001_consumed_activities" in first.stdout
    assert '"versions":[]' in second.stdout.replace(" ", "")
    rows = await pg_pool.fetch(
        f'SELECT version FROM "{service.settings.db_schema}".schema_migrations'
    )
    assert [row["version"] for row in rows] == [
        m.version for m in load_migrations(service.definition.package)
    ]


async def test_a_started_service_is_healthy_ready_and_serves_metrics(service: Service) -> None:
    app = create_service_app(service.definition, service.settings, Mode.ALL)
    async with serve(app) as client:
        health = await client.get("/healthz")
        ready = await wait_ready(client)
        metrics = await client.get("/metrics")
        missing = await client.get("/no/such/route")

    assert health.json() == {"status": "ok"}
    assert ready.json()["checks"] == {
        "postgres": "ok",
        "redis": "ok",
        "broker": "ok",
        "consumers": "ok",
        "workers": "ok",
    }
    name = service.definition.name
    assert (
        f'canopy_{name}_http_request_duration_seconds_count{{method="GET",route="/healthz",status="200"}}'
        in metrics.text
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_an_api_only_process_is_ready_without_consumers(service: Service) -> None:
    app = create_service_app(service.definition, service.settings, Mode.API)
    async with serve(app) as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 200


async def test_the_consumer_applies_an_activity_once_and_dead_letters_poison(
    skeleton_service: Service, pg_pool: asyncpg.Pool, tenant_id: str
) -> None:
    service = skeleton_service
    factory = ActivityFactory(tenant_id)
    activity = factory.post(factory.user("alice"), "hello #canopy")
    kafka = service.settings.kafka
    app = create_service_app(service.definition, service.settings, Mode.WORKER)
    async with serve(app) as client, Producer(kafka) as producer:
        await wait_ready(client)
        key = f"{tenant_id}:alice"
        await producer.send(service.input_topic, encode(activity), key=key)
        await producer.send(service.input_topic, b'{"type": "Create"}', key=key)  # poison
        await producer.send(service.input_topic, encode(activity), key=key)  # redelivery

        # Once the group's committed offsets pass all three records, the consumer has handled
        # every one (the redelivery is behind the poison record on the same partition).
        async def all_committed() -> bool:
            offsets = await committed_offsets(
                kafka, service.settings.consumer_group, service.input_topic
            )
            return sum(offsets.values()) >= 3

        await eventually(all_committed, what="all three records to be committed")
        headers = [dict(r.headers) for r in await read_topic(kafka, kafka.topic_dlq)]
        rows = await pg_pool.fetch(
            f'SELECT activity_id FROM "{service.settings.db_schema}".consumed_activities '
            "WHERE tenant_id = $1",
            tenant_id,
        )

    assert [row["activity_id"] for row in rows] == [activity.id]
    assert len(headers) == 1
    assert headers[0]["dlq.original.topic"] == service.input_topic.encode()
    assert headers[0]["dlq.consumer.group"] == service.settings.consumer_group.encode()
    assert headers[0]["dlq.error.class"].endswith(b"InvalidActivity")


async def test_services_started_before_their_broker_serve_not_ready_then_become_ready(
    broker_of_its_own: LocalStack, pg_pool: asyncpg.Pool
) -> None:
    kafka = broker_of_its_own.kafka.model_copy(update={"retry_backoff_max_ms": 1000})
    services = [isolated_service(name, kafka) for name in sorted(SERVICES)]
    apps = [create_service_app(s.definition, s.settings, Mode.ALL) for s in services]
    try:
        async with contextlib.AsyncExitStack() as running:
            clients = [await running.enter_async_context(serve(app)) for app in apps]

            for client in clients:  # serving at once, saying what is missing
                assert (await client.get("/healthz")).status_code == 200
                waiting = await client.get("/readyz")
                assert waiting.status_code == 503
                assert waiting.headers["content-type"] == "application/problem+json"
                assert "not connected to the broker" in waiting.json()["checks"]["broker"]

            await asyncio.to_thread(broker_of_its_own.up)

            for client in clients:  # no restart: the same processes connect by themselves
                ready = await wait_ready(client)
                assert set(ready.json()["checks"].values()) == {"ok"}
    finally:
        for service in services:
            await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{service.settings.db_schema}" CASCADE')
