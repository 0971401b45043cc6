"""What the fanout service consumes, and the handler for each topic.

``canopy.activities.v1``: every activity, applied once (see :mod:`canopy_fanout.handlers`);
``canopy.fanout.work.v1``: chunks of big fan-outs, shared by every fanout worker.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import cast

from canopy_common.db import Connection
from canopy_common.events import StrictActivity
from canopy_common.inbox import ActivityEffect, activity_batch_handler, activity_handler
from canopy_common.kafka_consumer import BatchHandler, ConsumedRecord, Handler
from canopy_common.service import ConsumerSpec, Runtime
from canopy_common.settings import ServiceSettings
from canopy_fanout.api.deps import feed_store
from canopy_fanout.handlers import Chunk, Fanout, apply_activity, apply_chunk
from canopy_fanout.metrics import fanout_metrics
from canopy_fanout.settings import Settings


def fanout_of(runtime: Runtime) -> Fanout:
    settings = cast(Settings, runtime.settings)

    async def publish_work(key: str, value: bytes, n: int) -> None:
        # Chunk n of an item goes to the partition n after the key's own, so the chunks of
        # one big fan-out spread evenly over the partitions (and the workers holding them).
        topic = settings.kafka.topic_fanout_work
        partitions = await runtime.producer.partitions_for(topic)
        partition = partitions[(zlib.crc32(key.encode()) + n) % len(partitions)]
        await runtime.producer.send(topic, value, key=key, partition=partition)

    return Fanout(
        feeds=feed_store(runtime),
        settings=settings,
        metrics=fanout_metrics(),
        publish_work=publish_work,
    )


def _effect(runtime: Runtime) -> ActivityEffect:
    fanout = fanout_of(runtime)

    async def effect(conn: Connection, activity: StrictActivity) -> None:
        await apply_activity(conn, activity, fanout=fanout)

    return effect


def _activity_topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_activities]


def _activity_handler(runtime: Runtime) -> Handler:
    # Strict AS2 (poison goes to the DLQ), applied once per activity id.
    return activity_handler(runtime.pool, _effect(runtime))


def _activity_batch_handler(runtime: Runtime) -> BatchHandler:
    return activity_batch_handler(runtime.pool, _effect(runtime))


def _work_topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_fanout_work]


def _work_handler(runtime: Runtime) -> Handler:
    fanout = fanout_of(runtime)

    async def handle(record: ConsumedRecord) -> None:
        await apply_chunk(Chunk.decode(record.value), fanout=fanout)

    return handle


def _work_batch_handler(runtime: Runtime) -> BatchHandler:
    fanout = fanout_of(runtime)

    async def handle(records: Sequence[ConsumedRecord]) -> None:
        for chunk in [Chunk.decode(record.value) for record in records]:
            await apply_chunk(chunk, fanout=fanout)

    return handle


CONSUMERS = [
    ConsumerSpec(
        name="activities",
        topics=_activity_topics,
        handler=_activity_handler,
        batch_handler=_activity_batch_handler,
    ),
    ConsumerSpec(
        name="work",
        topics=_work_topics,
        handler=_work_handler,
        batch_handler=_work_batch_handler,
        group_suffix="work",
    ),
]
