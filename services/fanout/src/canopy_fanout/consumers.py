"""What the fanout service consumes, and the handler for each topic.

``canopy.activities.v1``: every activity, parsed once into a typed change and applied once
(see :mod:`canopy_fanout.handlers`).
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
import structlog

from canopy_common.after_commit import AfterCommit
from canopy_common.consuming import BatchHandler, ConsumedRecord, Handler
from canopy_common.db import Connection
from canopy_common.events import StrictActivity
from canopy_common.inbox import apply_once
from canopy_common.service import ConsumerSpec
from canopy_common.settings import ServiceSettings
from canopy_common.vocabulary.canonical import decode_canonical
from canopy_common.vocabulary.changes import change_of
from canopy_fanout.bootstrap import Collaborators
from canopy_fanout.chunks import Chunk, apply_chunk
from canopy_fanout.export_section import EXPORT_CONSUMER
from canopy_fanout.handlers import apply_change, redo_change
from canopy_fanout.write_path import Fanout

log = structlog.get_logger(__name__)


async def apply_records(
    records: Sequence[ConsumedRecord], *, pool: asyncpg.Pool, fanout: Fanout
) -> None:
    """Apply one partition's records in one transaction, then their after-commit steps.

    A record that is no canonical activity raises (the consumer then dead-letters it on its
    own); redeliveries change nothing in the transaction and run only their after-commit step
    again.
    """
    activities = [decode_canonical(record.value) for record in records]
    changes = {id(activity): change_of(activity) for activity in activities}
    later = AfterCommit()  # in order: a partition's after-commit work keeps key order

    async def effect(conn: Connection, activity: StrictActivity) -> None:
        change = changes[id(activity)]
        if change is None:
            log.debug("activity ignored", type=activity.type)
        elif (work := await apply_change(conn, change, fanout=fanout)) is not None:
            later.defer(work)

    async with pool.acquire() as conn:
        async with conn.transaction():
            applied = {id(a) for a in await apply_once(conn, activities, effect)}
        redelivered = [changes[id(a)] for a in activities if id(a) not in applied]
        for change in redelivered:
            if change is not None and (work := await redo_change(conn, change, fanout=fanout)):
                later.defer(work)
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
    EXPORT_CONSUMER,  # canopy.exports.v1: its section of a person's data export
]
