"""Looking at topics and consumer groups from tests, without joining the group."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from canopy_common.settings import KafkaSettings

READ_TIMEOUT_S = 20.0


async def committed_offsets(settings: KafkaSettings, group: str, topic: str) -> dict[int, int]:
    """The group's committed offsets in ``topic``, by partition (unset ones left out)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        offsets = {
            p: await consumer.committed(TopicPartition(topic, p))
            for p in range(settings.partitions)
        }
    finally:
        await consumer.stop()
    return {p: offset for p, offset in offsets.items() if offset is not None}


async def read_topic(settings: KafkaSettings, topic: str) -> list[Any]:
    """Every record in ``topic`` right now (aiokafka ``ConsumerRecord``s), partition by
    partition in offset order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        async with asyncio.timeout(READ_TIMEOUT_S):
            while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()
