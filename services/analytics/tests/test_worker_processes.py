"""Two analytics worker processes (each running the faust stream) in one consumer group, against
the real broker: they share the partitions of the stream's topics, and a killed one's move to the
other once its session times out (docs/kafka.md, "Consumer groups"), with nothing lost."""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg
import pytest
from analytics_checks import ok
from analytics_harness import analytics_settings, running_analytics
from redis.asyncio import Redis

from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.polling import eventually
from canopy_testing.workers import held_partitions, taken_over, worker_processes

pytestmark = pytest.mark.integration

SUMMARY = "/v1/analytics/summary"
PARTITIONS = 4  # of each topic: two for each worker


async def test_two_analytics_workers_share_partitions_and_a_killed_ones_move_to_the_other(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis, tmp_path: Path
) -> None:
    settings = analytics_settings(kafka_settings.model_copy(update={"partitions": PARTITIONS}))
    kafka = settings.kafka
    session_s, heartbeat_s = kafka.session_timeout_ms / 1000, kafka.heartbeat_interval_ms / 1000
    activities = frozenset((kafka.topic_activities, p) for p in range(PARTITIONS))
    every = activities | {(kafka.topic_impressions, p) for p in range(PARTITIONS)}
    f = ActivityFactory()
    # The API runs here, for reads; only the worker processes run the stream.
    async with (
        running_analytics(settings, pg_pool, redis_client, Mode.API) as analytics,
        worker_processes("canopy_analytics", settings, 2, tmp_path) as (victim, survivor),
    ):

        async def shared() -> list[frozenset[tuple[str, int]]] | None:
            held = await held_partitions(settings, (victim, survivor))
            if held is None or held[0] | held[1] != every:
                return None
            return held if all(h & activities for h in held) else None

        victim_held, _ = await eventually(shared, what="both workers holding partitions")
        authors = await analytics.people_on_every_partition(f)
        before = [f.post(author, f"Before the kill {n}") for n, author in enumerate(authors)]
        await analytics.send(*authors, *before)
        await analytics.provision(f.tenant_id, "an")  # the analyst reading the summary

        await victim.kill()
        killed_at = time.monotonic()
        after = [f.post(author, f"After the kill {n}") for n, author in enumerate(authors)]
        deliveries = await analytics.publish(*after)

        await taken_over(settings, victim, survivor, every)
        moved_s = time.monotonic() - killed_at
        await analytics.settle(*after)
        summary = ok(await analytics.get(SUMMARY, f.tenant_id, "an", "analyst", period="7d"))

    assert {(d.topic, d.partition) for d in deliveries} >= victim_held & activities
    # Not at once (no leave: the group waits for the session to time out), and then at the
    # survivor's next heartbeat.
    assert session_s - 2 * heartbeat_s <= moved_s <= session_s + 2 * heartbeat_s, moved_s
    assert summary["posts"] == len(before) + len(after)
