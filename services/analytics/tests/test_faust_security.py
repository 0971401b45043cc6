"""Analytics' faust app reaches a broker that takes SASL_SSL only (SCRAM and a client
certificate), with the same ``CANOPY_KAFKA_*`` settings as every other client (docs/kafka.md,
"Kafka security")."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import faust
import pytest

from canopy_analytics.faust_app import faust_app
from canopy_analytics.settings import Settings
from canopy_common.kafka import Producer, ensure_topics
from canopy_testing.kafka_cluster import KafkaCluster

pytestmark = pytest.mark.integration

WAIT_S = 60.0  # faust's consumer thread joins its group first
SETTLE_POLL_S = 0.05


async def test_the_faust_app_consumes_over_sasl_ssl(
    sasl_ssl_kafka: KafkaCluster, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    kafka = sasl_ssl_kafka.client_settings(
        partitions=2, topic_activities=f"test.faust.secure.{suffix}"
    )
    settings = Settings(kafka=kafka, consumer_group=f"test-faust-secure-{suffix}")
    await ensure_topics(kafka, [kafka.topic_activities])
    app = faust_app(settings, datadir=str(tmp_path))
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def keep(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for value in stream:
            await received.put(value)
            yield None

    topic = app.topic(kafka.topic_activities, key_serializer="raw", value_serializer="raw")
    app.agent(topic, name="secure", concurrency=1)(keep)

    starting = asyncio.create_task(app.start())
    try:
        async with Producer(kafka) as producer:
            await producer.send(kafka.topic_activities, b"through faust", key="k")
        async with asyncio.timeout(WAIT_S):
            value = await received.get()
    finally:
        # As canopy_analytics.stream stops it: never mid-start or mid-rebalance (faust's
        # consumer thread and this loop wait for each other then).
        async with asyncio.timeout(WAIT_S):
            await asyncio.wait([starting])
            while app.rebalancing and not app.should_stop:  # noqa: ASYNC110
                await asyncio.sleep(SETTLE_POLL_S)
        await app.stop()

    assert value == b"through faust"
    assert starting.exception() is None
