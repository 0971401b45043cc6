"""Fixtures for the fanout tests (see :mod:`fanout_harness`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from fanout_harness import Fanout, fanout_settings, start_fanout
from redis.asyncio import Redis

from canopy_common.settings import KafkaSettings


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fanout(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Fanout]:
    """The fanout service with default settings, shared by the session."""
    async for service in start_fanout(fanout_settings(kafka_settings), pg_pool, redis_client):
        yield service
