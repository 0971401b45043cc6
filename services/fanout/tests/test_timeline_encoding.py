"""A full timeline stays in Redis's compact encoding (see adapters/timeline_encoding.py)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from canopy_fanout.adapters.timeline_encoding import SETTING, ensure_listpack_entries

pytestmark = pytest.mark.integration


async def _limit(redis: Redis) -> int:
    return int((await redis.config_get(SETTING)).get(SETTING) or 0)


async def test_the_limit_is_raised_to_what_a_full_timeline_needs_and_never_lowered(
    redis_client: Redis,
) -> None:
    before = await _limit(redis_client)
    try:
        await redis_client.config_set(SETTING, 128)
        assert await ensure_listpack_entries(redis_client, 801)
        assert await _limit(redis_client) == 801
        assert await ensure_listpack_entries(redis_client, 200)
        assert await _limit(redis_client) == 801
        name = "test:{timeline-encoding}:full"
        await redis_client.zadd(name, {f"{i:016d}".encode(): i for i in range(801)})
        assert await redis_client.object("encoding", name) == b"listpack"
        await redis_client.delete(name)
    finally:
        await redis_client.config_set(SETTING, max(before, 801))
