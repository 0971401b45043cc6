"""Readiness of a consumer against a Kafka broker of the test's own: a deleted subscribed topic
and commits that keep failing make ``/readyz`` answer 503 naming them; the consumer resumes by
itself when the topic or the broker is back, and nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from redis.asyncio import Redis

from canopy_common.health import health_router
from canopy_common.kafka import ConsumedRecord, Consumer, Producer, ensure_topics
from canopy_common.runtime import Runtime
from canopy_common.settings import KafkaSettings, ServiceSettings
from canopy_testing.kafka import committed_offsets
from canopy_testing.kafka_cluster import KafkaCluster
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

TOPIC = "test.readiness"


@dataclass
class Applied:
    """The handler: remembers every value; a value in ``hold`` waits until it is released."""

    values: list[bytes] = field(default_factory=list)
    hold: dict[bytes, asyncio.Event] = field(default_factory=dict)
    holding: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, record: ConsumedRecord) -> None:
        if (release := self.hold.get(record.value)) is not None:
            self.holding.set()
            await release.wait()
        self.values.append(record.value)


@dataclass
class Scene:
    kafka: KafkaSettings
    client: httpx.AsyncClient
    applied: Applied
    group: str

    async def readyz(self) -> httpx.Response:
        return await self.client.get("/readyz")

    async def consumers_check(self) -> str:
        response = await self.readyz()
        check: str = response.json()["checks"]["consumers"]
        return check


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaCluster]:
    """One Kafka node of the test's own, which creates no topic by itself: a deleted topic
    stays deleted (a broker that auto-creates topics gives a consumer its topic back at its
    next metadata request, empty, with the broker's defaults)."""
    with KafkaCluster(
        tmp_path, partitions=2, size=1, overrides={"auto.create.topics.enable": "false"}
    ) as cluster:
        yield cluster


@asynccontextmanager
async def consuming(
    own_broker: KafkaCluster, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Scene]:
    """A consumer of ``TOPIC`` on the test's broker, and the readiness route over it (Postgres
    and Redis the session's, on a schema of its own)."""
    suffix = uuid.uuid4().hex[:10]
    kafka = KafkaSettings(
        bootstrap_servers=own_broker.bootstrap,
        partitions=2,
        request_timeout_ms=2000,
        retry_backoff_max_ms=500,
    )
    schema = f"test_ready_{suffix}"
    await pg_pool.execute(f'CREATE SCHEMA "{schema}"')
    await pg_pool.execute(f'CREATE TABLE "{schema}".schema_migrations (version text)')
    await ensure_topics(kafka, [TOPIC, kafka.topic_dlq])
    applied, group = Applied(), f"test-ready-{suffix}"
    consumer = Consumer(
        kafka, service="ready_test", group_id=group, topics=[TOPIC], handler=applied
    )
    app = FastAPI()
    app.include_router(health_router())
    try:
        async with Producer(kafka) as producer:
            app.state.runtime = Runtime(
                ServiceSettings(db_schema=schema), pg_pool, redis_client, producer, [consumer]
            )
            await consumer.start()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield Scene(kafka, client, applied, group)
    finally:
        await consumer.stop()
        await pg_pool.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def send(kafka: KafkaSettings, *values: bytes) -> None:
    async with Producer(kafka) as producer:
        for value in values:
            await producer.send(TOPIC, value, key=value)


async def test_a_deleted_topic_is_named_by_readyz_and_consumed_again_once_it_is_back(
    own_broker: KafkaCluster, pg_pool: asyncpg.Pool, redis_client: Redis
) -> None:
    async with consuming(own_broker, pg_pool, redis_client) as scene:
        await send(scene.kafka, b"before")
        await eventually(lambda: _has(scene.applied.values, b"before"), what="the first record")
        await eventually(lambda: _status(scene, 200), what="ready")

        admin = AIOKafkaAdminClient(bootstrap_servers=scene.kafka.bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics([TOPIC])
        finally:
            await admin.close()
        red = await eventually(lambda: _status(scene, 503), what="not ready without the topic")
        await ensure_topics(scene.kafka, [TOPIC])
        await send(scene.kafka, b"after")
        await eventually(lambda: _has(scene.applied.values, b"after"), what="the new record")
        green = await eventually(lambda: _status(scene, 200), what="ready again")

    assert red.headers["Retry-After"] == "2"
    assert (
        red.json()["checks"]["consumers"]
        == f"RuntimeError: {scene.group}: topic {TOPIC} is missing"
    )
    assert green.json()["checks"]["consumers"] == "ok"
    assert scene.applied.values == [b"before", b"after"]


async def test_failing_commits_make_readyz_red_and_nothing_acknowledged_is_lost(
    own_broker: KafkaCluster, pg_pool: asyncpg.Pool, redis_client: Redis
) -> None:
    async with consuming(own_broker, pg_pool, redis_client) as scene:
        release = asyncio.Event()
        scene.applied.hold[b"held"] = release
        await send(scene.kafka, b"first", b"held")
        await asyncio.wait_for(scene.applied.holding.wait(), 30)

        await asyncio.to_thread(own_broker.stop_all)
        release.set()  # applied with the broker gone: its commit cannot succeed

        async def commits_failing() -> str | None:
            check = await scene.consumers_check()
            return check if "commits failed in a row" in check else None

        red = await eventually(
            commits_failing, what="readyz naming the failing commits", timeout_s=60
        )
        await asyncio.to_thread(own_broker.start, 1)
        await send(scene.kafka, b"after")
        await eventually(lambda: _has(scene.applied.values, b"after"), what="the record after")
        await eventually(lambda: _status(scene, 200), what="ready again", timeout_s=60)
        committed = await committed_offsets(scene.kafka, scene.group, TOPIC)

    assert red.startswith(f"RuntimeError: {scene.group}: ")
    assert sorted(set(scene.applied.values)) == [b"after", b"first", b"held"]
    assert sum(committed.values()) == 3  # every record applied is committed: none is fetched again


async def _has(values: list[bytes], value: bytes) -> bool:
    return value in values


async def _status(scene: Scene, status: int) -> httpx.Response | None:
    response = await scene.readyz()
    return response if response.status_code == status else None
