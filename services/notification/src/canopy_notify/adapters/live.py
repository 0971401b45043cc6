"""The notification service's Redis: unread counts (a cache, always recomputable from
Postgres), live events over pub/sub (so any API process can hold a user's stream), and
presence (whether someone is on the live stream, which holds back email and push).

One function owns every key name; ``{tenant}`` is the Redis Cluster hash tag.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio import Redis

# Short enough that a missed invalidation heals by itself, long enough to absorb polling.
UNREAD_TTL_S = 300


def key(kind: str, tenant: str, user: str) -> str:
    """``nt:{tenant}:<unread|live|online|seen>:<user>``."""
    return f"nt:{{{tenant}}}:{kind}:{user}"


class Live:
    def __init__(self, redis: Redis, *, presence_ttl_s: float) -> None:
        self.redis = redis
        self.presence_ttl_s = presence_ttl_s

    async def unread(self, tenant: str, user: str, recompute: Callable[[], Awaitable[int]]) -> int:
        """The cached unread count, recomputed from Postgres on a miss."""
        cached = await self.redis.get(key("unread", tenant, user))
        if cached is not None:
            return int(cached)
        count = await recompute()
        await self.redis.set(key("unread", tenant, user), count, ex=UNREAD_TTL_S)
        return count

    async def forget_unread(self, tenant: str, users: set[str]) -> None:
        if users:
            await self.redis.delete(*(key("unread", tenant, u) for u in users))

    async def publish(self, tenant: str, user: str, event: dict[str, Any]) -> None:
        """Send one event to every stream ``user`` holds open, in whatever process."""
        await self.redis.publish(key("live", tenant, user), orjson.dumps(event))

    async def here(self, tenant: str, user: str) -> None:
        """``user`` is on the live stream now (called on connect and every keep-alive)."""
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(key("online", tenant, user), now, ex=max(int(self.presence_ttl_s), 1))
            pipe.set(key("seen", tenant, user), now, ex=30 * 86_400)
            await pipe.execute()

    async def seen_since(self, tenant: str, user: str, since: float) -> bool:
        """Whether ``user`` was on the live stream at any time since ``since`` (epoch s)."""
        online, seen = await self.redis.mget(key("online", tenant, user), key("seen", tenant, user))
        return online is not None or (seen is not None and float(seen) >= since)
