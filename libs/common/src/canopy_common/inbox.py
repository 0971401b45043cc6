"""Idempotent consumption: remember which activities a service has already applied.

Delivery is at least once (docs/architecture.md §9), so every consumer records the activity id in
its
own schema's ``consumed_activities`` table in the same transaction as its effect, and skips an
id it has seen. Each service's first migration creates that table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import asyncpg
import structlog

if TYPE_CHECKING:
    from canopy_common.db import Connection

from canopy_common.after_commit import AfterCommit, committing
from canopy_common.consuming import BatchHandler, ConsumedRecord, Handler
from canopy_common.events import StrictActivity, decode_activity
from canopy_common.row_security import scope_to_tenant, span_all_tenants

log = structlog.get_logger(__name__)

ActivityEffect = Callable[["Connection", StrictActivity], Awaitable[None]]
# How a record's value becomes an activity; it raises to refuse the record as poison.
Decode = Callable[[bytes], StrictActivity]


def decode_strict(raw: bytes) -> StrictActivity:
    """Strict AS2, the least every consumer of activities checks (upstream records get more
    checks from ingestion's handlers; ``canopy.activities.v1`` records from
    :func:`canopy_common.vocabulary.canonical.decode_canonical`)."""
    return decode_activity(raw, profile="strict")


async def first_delivery(conn: Connection, tenant_id: str, activity_id: str) -> bool:
    """Record ``activity_id`` as consumed; False when it already was (a redelivery)."""
    status = await conn.execute(
        "INSERT INTO consumed_activities (tenant_id, activity_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        tenant_id,
        activity_id,
    )
    return bool(status == "INSERT 0 1")


async def consume_activity(
    record: ConsumedRecord,
    *,
    pool: asyncpg.Pool,
    effect: ActivityEffect | None = None,
    after: AfterCommit | None = None,
    decode: Decode = decode_strict,
) -> bool:
    """Decode an activity with ``decode`` and apply ``effect`` once per activity id; what
    ``effect`` deferred to ``after`` runs once the transaction has committed.

    An invalid record raises :class:`~canopy_common.events.InvalidActivity`, which the consumer
    dead-letters. Returns False for a redelivery, which changes nothing.
    """
    activity = decode(record.value)
    with structlog.contextvars.bound_contextvars(tenant=activity.tenant, activity_id=activity.id):
        async with committing(pool, after) as (conn, _):
            await scope_to_tenant(
                conn, activity.tenant
            )  # row-level security (docs/architecture.md §15)
            if not await first_delivery(conn, activity.tenant, activity.id):
                log.debug("duplicate activity skipped", topic=record.topic)
                return False
            if effect is not None:
                await effect(conn, activity)
        log.debug("activity consumed", topic=record.topic, type=activity.type)
        return True


def activity_handler(
    pool: asyncpg.Pool,
    effect: ActivityEffect | None = None,
    *,
    after: AfterCommit | None = None,
    decode: Decode = decode_strict,
) -> Handler:
    """A consumer handler applying ``effect`` once per activity (see :func:`consume_activity`)."""

    async def handle(record: ConsumedRecord) -> None:
        await consume_activity(record, pool=pool, effect=effect, after=after, decode=decode)

    return handle


async def consume_activities(
    records: Sequence[ConsumedRecord],
    *,
    pool: asyncpg.Pool,
    effect: ActivityEffect | None = None,
    after: AfterCommit | None = None,
    decode: Decode = decode_strict,
) -> int:
    """:func:`consume_activity` for a batch, in one transaction; the number applied.

    Any invalid record fails the whole batch (the consumer then goes record by record, so
    only that one is dead-lettered). One round trip records every id; redeliveries — within
    the batch too — are skipped.
    """
    activities = [decode(record.value) for record in records]
    async with committing(pool, after) as (conn, _):
        # A batch holds many tenants' records: the way out of row-level security
        # (docs/architecture.md §15).
        await span_all_tenants(conn)
        applied = await apply_once(conn, activities, effect)
    log.debug("activities consumed", records=len(records), applied=len(applied))
    return len(applied)


async def apply_once(
    conn: Connection, activities: Sequence[StrictActivity], effect: ActivityEffect | None = None
) -> list[StrictActivity]:
    """Record every activity's id in one round trip and apply ``effect`` to the first
    deliveries only (redeliveries — within the batch too — are skipped), in the caller's
    transaction; the activities applied."""
    fresh = {
        (row["tenant_id"], row["activity_id"])
        for row in await conn.fetch(
            "INSERT INTO consumed_activities (tenant_id, activity_id) "
            "SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING "
            "RETURNING tenant_id, activity_id",
            [a.tenant for a in activities],
            [a.id for a in activities],
        )
    }
    applied: list[StrictActivity] = []
    for activity in activities:
        if (activity.tenant, activity.id) not in fresh:
            continue
        fresh.discard((activity.tenant, activity.id))  # a duplicate within the batch
        if effect is not None:
            with structlog.contextvars.bound_contextvars(
                tenant=activity.tenant, activity_id=activity.id
            ):
                await effect(conn, activity)
        applied.append(activity)
    return applied


def activity_batch_handler(
    pool: asyncpg.Pool,
    effect: ActivityEffect | None = None,
    *,
    after: AfterCommit | None = None,
    decode: Decode = decode_strict,
) -> BatchHandler:
    """The batch form of :func:`activity_handler` (see :func:`consume_activities`)."""

    async def handle(records: Sequence[ConsumedRecord]) -> None:
        await consume_activities(records, pool=pool, effect=effect, after=after, decode=decode)

    return handle
