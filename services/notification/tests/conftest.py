"""Fixtures for the notification tests (see :mod:`notify_harness`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from notify_harness import Notify, notify_settings, start_notify
from redis.asyncio import Redis

from canopy_common.settings import KafkaSettings


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def notify(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Notify]:
    """The notification service with default settings, shared by the session."""
    async for service in start_notify(notify_settings(kafka_settings), pg_pool, redis_client):
        yield service
