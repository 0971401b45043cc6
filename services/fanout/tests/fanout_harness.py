"""The fanout test harness: the service running in-process (API, consumers and workers) on
its own schema, topics and consumer group, fed through the real broker.

Importable from every fanout test (``pythonpath`` in the root pyproject); the fixtures that
use it are in ``conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from canopy_common.kafka import Producer
from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_fanout.app import create_app
from canopy_fanout.settings import Settings
from canopy_testing.services import (
    ActivityServiceHarness,
    isolated_settings,
    service_connections,
    serving_ready,
)


def fanout_settings(kafka_settings: KafkaSettings, **overrides: Any) -> Settings:
    """Settings with a schema, topics and consumer group of their own."""
    return isolated_settings(
        Settings,
        kafka_settings,
        service="fanout",
        topics=(
            "topic_activities",
            "topic_fanout_work",
            "topic_impressions",
            "topic_dlq",
            "topic_exports",
            "topic_export_parts",
        ),
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
    """The service, ready; its schema is dropped afterwards."""
    async with (
        service_connections(settings, pg_pool) as (pool, producer),
        serving_ready(create_app(settings, mode), what="fanout ready") as client,
    ):
        yield Fanout(client, settings, pool, producer, redis)


def running_fanout(
    settings: Settings, pg_pool: asyncpg.Pool, redis: Redis, mode: Mode = Mode.ALL
) -> AbstractAsyncContextManager[Fanout]:
    """:func:`start_fanout` for an ``async with`` block."""
    return asynccontextmanager(start_fanout)(settings, pg_pool, redis, mode)
