"""The fan-out's hot path in Redis (FeedStore.push_homes): the script names each reader's home
timeline from one prefix and a newline-separated list of ids, writes only built ones and
trims them to the cap; an id no line can hold still gets its entry."""

from __future__ import annotations

import os

from redis.asyncio import Redis

from canopy_fanout.adapters.feed_store import PUSH_BATCH, SENTINEL, FeedStore, timeline_key
from canopy_fanout.domain.entries import Position
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_testing.factories import new_tenant_id

CAP = 3


def store(redis: Redis) -> FeedStore:
    return FeedStore(redis, cap=CAP, timeline_ttl_s=60, body_ttl_s=60)


def entry(score: int) -> Position:
    return Position(score, os.urandom(16))


async def build(redis: Redis, tenant: str, *readers: str) -> None:
    for reader in readers:
        await redis.zadd(timeline_key(tenant, FeedRef(FeedKind.HOME, reader)), {SENTINEL: 0})


async def held(redis: Redis, tenant: str, reader: str) -> list[bytes]:
    name = timeline_key(tenant, FeedRef(FeedKind.HOME, reader))
    found = await redis.zrange(name, 0, -1)
    return [m for m in found if isinstance(m, bytes) and m != SENTINEL]


async def test_a_push_writes_the_built_home_timelines_only(redis_client: Redis) -> None:
    tenant = new_tenant_id()
    await build(redis_client, tenant, "ada", "bob")
    first = entry(1_000)

    written = await store(redis_client).push_homes(tenant, ["ada", "bob", "cy"], [first])

    assert written == 2
    assert await held(redis_client, tenant, "ada") == [first.member]
    assert await held(redis_client, tenant, "bob") == [first.member]
    assert not await redis_client.exists(timeline_key(tenant, FeedRef(FeedKind.HOME, "cy")))


async def test_a_push_keeps_the_newest_entries_up_to_the_cap(redis_client: Redis) -> None:
    tenant = new_tenant_id()
    await build(redis_client, tenant, "ada")
    pushed = [entry(score) for score in (10, 20, 30, 40, 50)]

    for position in pushed:
        await store(redis_client).push_homes(tenant, ["ada"], [position])

    assert await held(redis_client, tenant, "ada") == [p.member for p in pushed[-CAP:]]


async def test_ids_with_odd_characters_and_batches_past_one_call_all_arrive(
    redis_client: Redis,
) -> None:
    tenant = new_tenant_id()
    odd = ["line\nbreak", "dé-jà vu", "a:b{c}"]
    many = [f"r{i:05d}" for i in range(PUSH_BATCH + 5)]
    await build(redis_client, tenant, *odd, *many)
    first = entry(7)

    written = await store(redis_client).push_homes(tenant, [*odd, *many], [first])

    assert written == len(odd) + len(many)
    for reader in [*odd, many[0], many[-1]]:
        assert await held(redis_client, tenant, reader) == [first.member]
