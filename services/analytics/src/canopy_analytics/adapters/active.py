"""Active and engaged people per tenant per day as Redis HyperLogLogs (docs/architecture.md §7):
``an:{tenant}:<active|engaged>:<YYYY-MM-DD>``. Counting a window is one PFCOUNT over its days'
keys (a union), about 0.81 % standard error.

Redis is a cache here: ``daily_actors`` in Postgres is the durable record. A day whose marker
``an:{tenant}:built:<audience>:<day>`` is missing (expired, or Redis flushed) is rebuilt from it
before it is counted. Writers always add (after their commit) and a rebuild adds every stored
person to what is there, so whatever the interleaving nobody committed is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import StrEnum

import asyncpg
from redis.asyncio import Redis

# A day's key outlives the longest window (90 days) with room to spare; then it is rebuilt.
KEY_TTL_S = 100 * 86_400
# At most this many members per PFADD (keeps one command small).
_CHUNK = 1_000


class Audience(StrEnum):
    ACTIVE = "active"  # any activity or feed view
    ENGAGED = "engaged"  # posted, commented or reacted


def key(audience: Audience, tenant: str, day: date, *, marker: bool = False) -> str:
    """The one place the service's Redis key names are made (``marker``: the day's key was
    rebuilt from Postgres)."""
    built = "built:" if marker else ""
    return f"an:{{{tenant}}}:{built}{audience.value}:{day.isoformat()}"


class ActiveSets:
    """The HyperLogLogs of who was active or engaged, per tenant and day."""

    def __init__(self, redis: Redis, pool: asyncpg.Pool) -> None:
        self._redis = redis
        self._pool = pool

    async def add(
        self, tenant: str, day: date, *, active: Iterable[str], engaged: Iterable[str]
    ) -> None:
        """Count people in a day (idempotent: a HyperLogLog is a set). Call after the Postgres
        commit that recorded them in ``daily_actors``."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for audience, users in ((Audience.ACTIVE, active), (Audience.ENGAGED, engaged)):
                members = sorted(set(users))
                if not members:
                    continue
                k = key(audience, tenant, day)
                for start in range(0, len(members), _CHUNK):
                    pipe.pfadd(k, *members[start : start + _CHUNK])
                pipe.expire(k, KEY_TTL_S)
            await pipe.execute()

    async def count(self, tenant: str, audience: Audience, days: Sequence[date]) -> int:
        """Distinct people over ``days`` (approximate)."""
        if not days:
            return 0
        await self._ensure(tenant, audience, days)
        return int(await self._redis.pfcount(*(key(audience, tenant, d) for d in days)))

    async def per_day(
        self, tenant: str, audience: Audience, days: Sequence[date]
    ) -> Mapping[date, int]:
        """Distinct people on each of ``days`` (approximate)."""
        await self._ensure(tenant, audience, days)
        async with self._redis.pipeline(transaction=False) as pipe:
            for d in days:
                pipe.pfcount(key(audience, tenant, d))
            counts = await pipe.execute()
        return {d: int(n) for d, n in zip(days, counts, strict=True)}

    async def _ensure(self, tenant: str, audience: Audience, days: Sequence[date]) -> None:
        """Add to the keys of ``days`` not yet rebuilt everyone ``daily_actors`` holds."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for d in days:
                pipe.exists(key(audience, tenant, d, marker=True))
            present = await pipe.execute()
        missing = [d for d, there in zip(days, present, strict=True) if not there]
        if not missing:
            return
        engaged_only = audience is Audience.ENGAGED
        rows = await self._pool.fetch(
            "SELECT day, user_id FROM daily_actors WHERE tenant_id = $1 "
            "AND day = ANY($2::date[]) AND (NOT $3 OR created OR contributed)",
            tenant,
            missing,
            engaged_only,
        )
        by_day: dict[date, list[str]] = {d: [] for d in missing}
        for row in rows:
            by_day[row["day"]].append(row["user_id"])
        async with self._redis.pipeline(transaction=False) as pipe:
            for d, users in by_day.items():
                k = key(audience, tenant, d)
                pipe.pfadd(k)  # an empty day still gets its (empty) key
                for start in range(0, len(users), _CHUNK):
                    pipe.pfadd(k, *users[start : start + _CHUNK])
                pipe.expire(k, KEY_TTL_S)
                pipe.set(key(audience, tenant, d, marker=True), b"1", ex=KEY_TTL_S)
            await pipe.execute()
