"""Two fanout worker processes in one consumer group, against the real broker: they share the
partitions of the activities topic, and a killed one's move to the other once its session
times out (docs/kafka.md, "Consumer groups"), with nothing lost."""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg
import pytest
from fanout_harness import fanout_settings, object_ids, running_fanout
from redis.asyncio import Redis

from canopy_common.events import StrictActivity
from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.polling import eventually
from canopy_testing.workers import held_partitions, taken_over, worker_processes

pytestmark = pytest.mark.integration

HOME = "/v1/feeds/home"
PARTITIONS = 4  # two for each worker


async def test_two_fanout_workers_share_partitions_and_a_killed_ones_move_to_the_other(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis, tmp_path: Path
) -> None:
    settings = fanout_settings(kafka_settings.model_copy(update={"partitions": PARTITIONS}))
    kafka = settings.kafka
    session_s, heartbeat_s = kafka.session_timeout_ms / 1000, kafka.heartbeat_interval_ms / 1000
    every = frozenset((kafka.topic_activities, p) for p in range(PARTITIONS))
    f = ActivityFactory()
    reader = f.user("reader")
    # The API runs here, for reads; only the worker processes consume.
    async with (
        running_fanout(settings, pg_pool, redis_client, Mode.API) as fanout,
        worker_processes("canopy_fanout", settings, 2, tmp_path) as (victim, survivor),
    ):

        async def shared() -> list[frozenset[tuple[str, int]]] | None:
            held = await held_partitions(settings, (victim, survivor))
            return held if held and all(held) and held[0] | held[1] == every else None

        victim_held, _ = await eventually(shared, what="both workers holding partitions")
        authors = await fanout.people_on_every_partition(f)
        await fanout.send(reader, *authors, *(f.follow(reader, author) for author in authors))
        await fanout.feed(HOME, f.tenant_id, uid(reader))  # read lately: gets pushes
        before = [f.post(author, f"Before the kill {n}") for n, author in enumerate(authors)]
        await fanout.send(*before)

        await victim.kill()
        killed_at = time.monotonic()
        after = [f.post(author, f"After the kill {n}") for n, author in enumerate(authors)]
        deliveries = await fanout.publish(*after)

        await taken_over(settings, victim, survivor, every)
        moved_s = time.monotonic() - killed_at
        await fanout.settle(*after)
        posts = sorted(subject_id(post) for post in before + after)

        async def home_holds_every_post() -> bool:  # pushed right after each commit
            return sorted(object_ids(await fanout.feed(HOME, f.tenant_id, uid(reader)))) == posts

        await eventually(home_holds_every_post, what="every post in the reader's home feed")

    assert {(d.topic, d.partition) for d in deliveries} >= victim_held
    # Not at once (no leave: the group waits for the session to time out), and then at the
    # survivor's next heartbeat.
    assert session_s - 2 * heartbeat_s <= moved_s <= session_s + 2 * heartbeat_s, moved_s


def uid(person: StrictActivity) -> str:
    return user_id_of_subject(person)
