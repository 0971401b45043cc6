"""The notification test harness: the service running in-process (API, consumers and workers) on
its own schema, topics and consumer group, fed through the real broker.

Importable from every notification test (``pythonpath`` in the root pyproject); the fixtures that
use it are in ``conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis
from smtp_harness import Mailbox

from canopy_common.kafka import Producer
from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_notify.app import create_app
from canopy_notify.settings import Settings
from canopy_testing.services import (
    ActivityServiceHarness,
    isolated_settings,
    service_connections,
    serving_ready,
)


def notify_settings(kafka_settings: KafkaSettings, **overrides: Any) -> Settings:
    """Settings with a schema, topics and consumer group of their own."""
    return isolated_settings(
        Settings,
        kafka_settings,
        service="notify",
        topics=(
            "topic_activities",
            "topic_deliveries",
            "topic_dlq",
            "topic_exports",
            "topic_export_parts",
            "topic_question_experts",
        ),
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
    """The service, ready; its schema is dropped afterwards."""
    async with (
        service_connections(settings, pg_pool) as (pool, producer),
        serving_ready(create_app(settings, mode), what="notify ready") as client,
    ):
        yield Notify(client, settings, pool, producer, redis, mailbox or Mailbox())
