"""Idempotent consumption: remember which activities a service has already applied.

Delivery is at least once (ARCHITECTURE §9), so every consumer records the activity id in its
own schema's ``consumed_activities`` table in the same transaction as its effect, and skips an
id it has seen. Each service's first migration creates that table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import asyncpg
import structlog

if TYPE_CHECKING:
    from canopy_common.db import Connection

from canopy_common.events import StrictActivity, decode_activity
from canopy_common.kafka_consumer import ConsumedRecord, Handler

log = structlog.get_logger(__name__)

ActivityEffect = Callable[["Connection", StrictActivity], Awaitable[None]]


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
    record: ConsumedRecord, *, pool: asyncpg.Pool, effect: ActivityEffect | None = None
) -> bool:
    """Decode a strict activity and apply ``effect`` once per activity id.

    An invalid record raises :class:`~canopy_common.events.InvalidActivity`, which the consumer
    dead-letters. Returns False for a redelivery, which changes nothing.
    """
    activity = decode_activity(record.value, profile="strict")
    with structlog.contextvars.bound_contextvars(tenant=activity.tenant, activity_id=activity.id):
        async with pool.acquire() as conn, conn.transaction():
            if not await first_delivery(conn, activity.tenant, activity.id):
                log.debug("duplicate activity skipped", topic=record.topic)
                return False
            if effect is not None:
                await effect(conn, activity)
        log.debug("activity consumed", topic=record.topic, type=activity.type)
        return True


def activity_handler(pool: asyncpg.Pool, effect: ActivityEffect | None = None) -> Handler:
    """A consumer handler applying ``effect`` once per activity (see :func:`consume_activity`)."""

    async def handle(record: ConsumedRecord) -> None:
        await consume_activity(record, pool=pool, effect=effect)

    return handle
