"""What the fanout service consumes, and the handler for each topic.

``canopy.activities.v1``: every activity, applied once (see :mod:`canopy_fanout.handlers`).
A fetch's partitions are applied side by side, each in a transaction of its own, then each
one's deferred work (audiences, backfills) after its commit: per-key order holds within a
partition, and one slow activity no longer holds up the eleven other partitions. When any
partition fails, the consumer goes over the whole fetch record by record, one at a time (what
was applied is skipped then; a deadlock between two partitions cannot recur).
``canopy.fanout.work.v1``: chunks of big fan-outs, shared by every fanout worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from canopy_common.after_commit import AfterCommit
from canopy_common.consuming import BatchHandler, ConsumedRecord, Handler
from canopy_common.db import Connection
from canopy_common.events import StrictActivity, decode_activity
from canopy_common.inbox import apply_once
from canopy_common.service import ConsumerSpec
from canopy_common.settings import ServiceSettings
from canopy_fanout.bootstrap import Collaborators
from canopy_fanout.handlers import (
    Chunk,
    Fanout,
    apply_activity,
    apply_chunk,
    redo_later,
)


async def apply_records(
    records: Sequence[ConsumedRecord], *, pool: asyncpg.Pool, fanout: Fanout
) -> None:
    """Apply one partition's records in one transaction, then their deferred work.

    An invalid record raises (the consumer then dead-letters it on its own); redeliveries
    change nothing in the transaction and redo only the deferred work.
    """
    activities = [decode_activity(record.value, profile="strict") for record in records]
    later = AfterCommit()

    async def effect(conn: Connection, activity: StrictActivity) -> None:
        await apply_activity(conn, activity, fanout=fanout, later=later)

    async with pool.acquire() as conn:
        async with conn.transaction():
            applied = {id(a) for a in await apply_once(conn, activities, effect)}
        for activity in activities:
            if id(activity) not in applied:
                await redo_later(conn, activity, fanout=fanout, later=later)
        await later.run(conn)


def _activity_topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_activities]


def _activity_handler(service: Collaborators) -> Handler:
    pool, fanout = service.runtime.pool, service.fanout

    async def handle(record: ConsumedRecord) -> None:
        await apply_records([record], pool=pool, fanout=fanout)

    return handle


def _activity_batch_handler(service: Collaborators) -> BatchHandler:
    pool, fanout = service.runtime.pool, service.fanout

    async def handle(records: Sequence[ConsumedRecord]) -> None:
        partitions: dict[tuple[str, int], list[ConsumedRecord]] = {}
        for record in records:
            partitions.setdefault((record.topic, record.partition), []).append(record)
        outcomes = await asyncio.gather(
            *(apply_records(part, pool=pool, fanout=fanout) for part in partitions.values()),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    return handle


def _work_topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_fanout_work]


def _work_handler(service: Collaborators) -> Handler:
    fanout = service.fanout

    async def handle(record: ConsumedRecord) -> None:
        await apply_chunk(Chunk.decode(record.value), fanout=fanout)

    return handle


def _work_batch_handler(service: Collaborators) -> BatchHandler:
    fanout = service.fanout

    async def handle(records: Sequence[ConsumedRecord]) -> None:
        # Each push is atomic in Redis and idempotent, so the order of chunks is free.
        chunks = [Chunk.decode(record.value) for record in records]
        await asyncio.gather(*(apply_chunk(chunk, fanout=fanout) for chunk in chunks))

    return handle


CONSUMERS: list[ConsumerSpec[Collaborators]] = [
    ConsumerSpec(
        name="activities",
        topics=_activity_topics,
        handler=_activity_handler,
        batch_handler=_activity_batch_handler,
        whole_fetch=True,
    ),
    ConsumerSpec(
        name="work",
        topics=_work_topics,
        handler=_work_handler,
        batch_handler=_work_batch_handler,
        whole_fetch=True,
        group_suffix="work",
    ),
]
