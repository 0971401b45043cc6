"""The notification test harness: the service running in-process (API, consumers and workers) on
its own schema, topics and consumer group, fed through the real broker.

Importable from every notification test (``pythonpath`` in the root pyproject); the fixtures that
use it are in ``conftest.py``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis
from smtp_harness import Mailbox

from canopy_common.db import close_pool, create_pool
from canopy_common.kafka import Producer
from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_notify.app import create_app
from canopy_notify.settings import Settings
from canopy_testing.http import serve
from canopy_testing.polling import eventually
from canopy_testing.services import ActivityServiceHarness


def notify_settings(kafka_settings: KafkaSettings, **overrides: Any) -> Settings:
    """Settings with a schema, topics and consumer group of their own."""
    suffix = uuid.uuid4().hex[:10]
    kafka = kafka_settings.model_copy(
        update={
            "topic_activities": f"test.activities.{suffix}",
            "topic_deliveries": f"test.deliveries.{suffix}",
            "topic_dlq": f"test.dlq.{suffix}",
            "retry_backoff_max_ms": 500,
        }
    )
    return Settings(
        db_schema=f"notify_{suffix}",
        consumer_group=f"test-notify-{suffix}",
        kafka=kafka,
        reminder_poll_s=0.2,
        **overrides,
    )


@dataclass
class Notify(ActivityServiceHarness):
    """The running service: its HTTP client, settings, a pool on its schema, a producer, and
    the mailbox of the SMTP server its email sender sends to."""

    client: httpx.AsyncClient
    settings: Settings
    pool: asyncpg.Pool
    producer: Producer
    redis: Redis
    mailbox: Mailbox = field(default_factory=Mailbox)


async def start_notify(
    settings: Settings,
    pg_pool: asyncpg.Pool,
    redis: Redis,
    mode: Mode = Mode.ALL,
    mailbox: Mailbox | None = None,
) -> AsyncIterator[Notify]:
    app = create_app(settings, mode)
    async with serve(app) as client:
        pool = await create_pool(settings.postgres, schema=settings.db_schema)
        producer = Producer(settings.kafka)
        await producer.start()
        try:
            service = Notify(client, settings, pool, producer, redis, mailbox or Mailbox())

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await eventually(ready, what="notify ready")
            yield service
        finally:
            await producer.stop()
            await close_pool(pool)
    await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
