"""Big audiences: pull sources, chunks shared by every worker, and feeds longer than Redis
keeps — through the real broker, Redis and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from fanout_harness import Fanout, fanout_settings, object_ids, start_fanout
from redis.asyncio import Redis

from canopy_common.service import Mode, Runtime
from canopy_common.settings import KafkaSettings
from canopy_fanout.adapters.feed_store import timeline_key
from canopy_fanout.domain.entries import entry_of
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_fanout.settings import Settings
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

HOME = "/v1/feeds/home"
BIG_GROUP = 50_000


def uid(subject: object) -> str:
    return user_id_of_subject(subject)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def small(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[tuple[Fanout, Fanout]]:
    """Two fanout processes in one group (API+workers, and workers only), with chunks of 10
    recipients and feeds of 5 entries, so small tests show big-feed behaviour."""
    settings = fanout_settings(kafka_settings, chunk_size=10, spread_over=10, feed_cap=5)
    async for first in start_fanout(settings, pg_pool, redis_client):
        async for second in start_fanout(settings, pg_pool, redis_client, Mode.WORKER):
            yield first, second


def _work_partitions(service: Fanout) -> set[int]:
    runtime: Runtime[Settings] = service.client._transport.app.state.runtime  # type: ignore[attr-defined]
    topic = service.settings.kafka.topic_fanout_work
    return {p for consumer in runtime.consumers for t, p in consumer.assignment if t == topic}


async def test_a_post_into_a_group_of_50000_members_is_pulled_and_readable_at_once(
    fanout: Fanout,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    everyone = f.group("Everyone", owner=ada, visibility="internal")
    await fanout.send(
        ada, bob, everyone, f.join(ada, everyone, role="owner"), f.join(bob, everyone)
    )
    # The other 49,998 members go straight into the projection: 50,000 Joins through the
    # broker would take minutes, and the Join path is the one the two above just took.
    await fanout.pool.execute(
        "INSERT INTO memberships (tenant_id, group_id, user_id) "
        "SELECT $1, $2, 'member-' || n FROM generate_series(1, $3::int) AS n",
        f.tenant_id,
        subject_id(everyone),
        BIG_GROUP - 2,
    )
    await fanout.pool.execute(
        "UPDATE groups SET member_count = member_count + $3 WHERE tenant_id = $1 AND group_id = $2",
        f.tenant_id,
        subject_id(everyone),
        BIG_GROUP - 2,
    )
    await fanout.feed(HOME, f.tenant_id, uid(bob))

    post = f.post(ada, "All-hands at 4pm", group=everyone)
    await fanout.send(post)

    assert object_ids(await fanout.feed(HOME, f.tenant_id, uid(bob))) == [subject_id(post)]
    bob_home = timeline_key(f.tenant_id, FeedRef(FeedKind.HOME, uid(bob)))
    assert await fanout.redis.zscore(bob_home, entry_of(post.id).bytes) is None  # merged on read
    group_feed = await fanout.feed(
        f"/v1/feeds/groups/{subject_id(everyone)}", f.tenant_id, uid(bob)
    )
    assert object_ids(group_feed) == [subject_id(post)]


async def test_large_fanouts_split_into_chunks_that_two_workers_share(
    small: tuple[Fanout, Fanout],
) -> None:
    first, second = small

    async def both_hold_work() -> bool:
        mine, theirs = _work_partitions(first), _work_partitions(second)
        return bool(mine) and bool(theirs) and not mine & theirs

    await eventually(both_hold_work, what="both workers hold a work partition", timeout_s=60)
    f = ActivityFactory()
    ada = f.user("ada")
    readers = [f.user(f"reader{n}") for n in range(35)]
    await first.send(ada, *readers, *(f.follow(r, ada) for r in readers))
    for reader in readers:  # active readers, with built home feeds
        await first.feed(HOME, f.tenant_id, uid(reader))

    post = f.post(ada, "Quarterly numbers are in")
    await first.send(post)

    async def everyone_has_it() -> bool:
        for reader in readers:
            key = timeline_key(f.tenant_id, FeedRef(FeedKind.HOME, uid(reader)))
            if await first.redis.zscore(key, entry_of(post.id).bytes) is None:
                return False
        return True

    await eventually(everyone_has_it, what="the post in all 35 home feeds")
    chunks = [
        r
        for r in await read_topic(first.settings.kafka, first.settings.kafka.topic_fanout_work)
        if post.id.encode() in r.value
    ]
    assert len(chunks) == 4  # 35 readers in chunks of 10
    assert {r.partition for r in chunks} == {0, 1}  # spread over both workers' partitions


async def test_a_cursor_past_what_redis_keeps_is_served_from_postgres(
    small: tuple[Fanout, Fanout],
) -> None:
    first, _ = small
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    await first.send(ada, bob, f.follow(bob, ada))
    await first.feed(HOME, f.tenant_id, uid(bob))
    posts = [f.post(ada, f"Post {n}") for n in range(12)]
    await first.send(*posts)
    key = timeline_key(f.tenant_id, FeedRef(FeedKind.HOME, uid(bob)))
    assert await first.redis.zcard(key) == 5 + 1  # the cap, and the built-marker

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = (await first.get(HOME, f.tenant_id, uid(bob), **params)).json()
        seen += object_ids(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == [subject_id(p) for p in reversed(posts)]
