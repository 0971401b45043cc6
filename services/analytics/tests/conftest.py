"""Fixtures for the analytics tests (see :mod:`analytics_harness`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from analytics_harness import Analytics, analytics_settings, running_analytics
from redis.asyncio import Redis

from canopy_common.settings import KafkaSettings


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def analytics(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Analytics]:
    """The analytics service (API and stream) with default settings, shared by the session."""
    async with running_analytics(
        analytics_settings(kafka_settings), pg_pool, redis_client
    ) as service:
        yield service
