"""Fixtures for the notification tests (see :mod:`notify_harness`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from notify_harness import Notify, notify_settings, start_notify
from redis.asyncio import Redis
from smtp_harness import smtp_server

from canopy_common.settings import KafkaSettings


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def notify(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Notify]:
    """The notification service with default settings, shared by the session; its email goes
    to a real SMTP server of its own."""
    with smtp_server() as smtp:
        settings = notify_settings(kafka_settings, smtp=smtp.settings)
        async for service in start_notify(settings, pg_pool, redis_client, mailbox=smtp.mailbox):
            yield service
