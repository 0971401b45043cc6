"""The fanout test harness: the service running in-process (API, consumers and workers) on
its own schema, topics and consumer group, fed through the real broker.

Importable from every fanout test (``pythonpath`` in the root pyproject); the fixtures that
use it are in ``conftest.py``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from canopy_common.db import close_pool, create_pool
from canopy_common.kafka import Producer
from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_fanout.app import create_app
from canopy_fanout.settings import Settings
from canopy_testing.http import serve
from canopy_testing.polling import eventually
from canopy_testing.services import ActivityServiceHarness


def fanout_settings(kafka_settings: KafkaSettings, **overrides: Any) -> Settings:
    """Settings with a schema, topics and consumer group of their own."""
    suffix = uuid.uuid4().hex[:10]
    kafka = kafka_settings.model_copy(
        update={
            "topic_activities": f"test.activities.{suffix}",
            "topic_fanout_work": f"test.fanout.work.{suffix}",
            "topic_impressions": f"test.impressions.{suffix}",
            "topic_dlq": f"test.dlq.{suffix}",
            "retry_backoff_max_ms": 500,
        }
    )
    return Settings(
        db_schema=f"fanout_{suffix}",
        consumer_group=f"test-fanout-{suffix}",
        kafka=kafka,
        impressions_flush_s=0.2,
        **overrides,
    )


@dataclass
class Fanout(ActivityServiceHarness):
    """The running service: its HTTP client, settings, a pool on its schema, a producer."""

    client: httpx.AsyncClient
    settings: Settings
    pool: asyncpg.Pool
    producer: Producer
    redis: Redis

    async def feed(
        self, path: str, tenant: str, user: str, *roles: str, **params: Any
    ) -> list[Any]:
        """The items of one page of a feed (asserting the read succeeded)."""
        response = await self.get(path, tenant, user, *roles, **params)
        assert response.status_code == 200, response.text
        items: list[Any] = response.json()["items"]
        return items


def object_ids(items: Sequence[Any]) -> list[str]:
    return [item["object"]["id"] for item in items]


async def start_fanout(
    settings: Settings, pg_pool: asyncpg.Pool, redis: Redis, mode: Mode = Mode.ALL
) -> AsyncIterator[Fanout]:
    app = create_app(settings, mode)
    async with serve(app) as client:
        pool = await create_pool(settings.postgres, schema=settings.db_schema)
        producer = Producer(settings.kafka)
        await producer.start()
        try:
            service = Fanout(client, settings, pool, producer, redis)

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually(ready, what="fanout ready")
            yield service
        finally:
            await producer.stop()
            await close_pool(pool)
    await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')


def running_fanout(
    settings: Settings, pg_pool: asyncpg.Pool, redis: Redis, mode: Mode = Mode.ALL
) -> AbstractAsyncContextManager[Fanout]:
    """:func:`start_fanout` for an ``async with`` block."""
    return asynccontextmanager(start_fanout)(settings, pg_pool, redis, mode)
