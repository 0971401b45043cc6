"""A producer stopped while the leader of its partition is dead, as the outbox relay stops its
producer after a failed pass: the stop ends in bounded time without raising, what the broker
never acknowledged fails with ``KafkaTimeoutError``, and a new producer carries on once the
partition has a leader again (docs/kafka.md)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka.errors import KafkaTimeoutError

from canopy_common.kafka import Producer, RecordBatch, ensure_topics
from canopy_common.settings import KafkaSettings
from canopy_testing.kafka_cluster import KafkaCluster

pytestmark = pytest.mark.cluster

# Far shorter than the ~9 s a dead leader's partitions wait for a new one: the producer gives
# up while its requests still go to the dead node.
REQUEST_TIMEOUT_MS = 2_000


async def test_a_producer_stopped_while_its_leader_is_dead_fails_the_unacknowledged_and_closes(
    cluster: KafkaCluster,
) -> None:
    topic = f"producer-stop-{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(
        bootstrap_servers=cluster.bootstrap,
        partitions=1,
        replication_factor=3,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )
    await ensure_topics(settings, [topic])
    await cluster.wait_for_leaders(topic)
    producer = Producer(settings)
    await producer.start()
    await producer.send(topic, b"before", key=b"k")
    [leader] = (await cluster.leaders(topic)).values()
    cluster.kill(leader)
    try:
        batch = RecordBatch(16_384)
        batch.append(b"a batch", key=b"k", headers=None)
        handed = await producer.enqueue_batch(topic, 0, batch)
        sends = [asyncio.ensure_future(producer.send(topic, b"one", key=b"k")) for _ in range(3)]
        await asyncio.sleep(REQUEST_TIMEOUT_MS / 1000)  # retried against the dead node meanwhile

        started = time.monotonic()
        await producer.stop()
        stopped_in_s = time.monotonic() - started

        outcomes = await asyncio.gather(handed, *sends, return_exceptions=True)
        assert [type(outcome) for outcome in outcomes] == [KafkaTimeoutError] * 4
        # The wait for acknowledgements, then the requests in flight ending: two timeouts.
        assert stopped_in_s < 2 * REQUEST_TIMEOUT_MS / 1000 + 1
        assert not producer.started
    finally:
        await asyncio.to_thread(cluster.start, leader)
        await cluster.wait_for_in_sync(topic, leader)

    async with Producer(settings) as again:
        delivered = await again.send(topic, b"after", key=b"k")
    assert delivered.offset >= 1
