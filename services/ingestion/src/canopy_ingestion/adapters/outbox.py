"""The transactional outbox: append a canonical activity in the caller's transaction.

The relay (:mod:`canopy_ingestion.adapters.relay`) publishes it after the commit. The key is
``tenant:actor`` (ARCHITECTURE §2: per-actor order), and the bucket a hash of it, so relays
running side by side never publish one key's activities out of order.
"""

from __future__ import annotations

import zlib

from canopy_common.db import Connection
from canopy_common.events import StrictActivity, encode
from canopy_common.iris import parse_name

OUTBOX_BUCKETS = 64  # rows in outbox_buckets (migration 0002); relays lock buckets, not rows
NOTIFY_CHANNEL = "ingestion_outbox"


def activity_key(activity: StrictActivity) -> str:
    """``tenant:actor``, the key of the activity's Kafka record."""
    actor = activity.actor
    actor_iri = actor if isinstance(actor, str) else getattr(actor, "id", None)
    name = parse_name(actor_iri) if isinstance(actor_iri, str) else None
    return f"{activity.tenant}:{name.key if name else actor_iri}"


def bucket_of(key: str) -> int:
    return zlib.crc32(key.encode()) % OUTBOX_BUCKETS


async def append(conn: Connection, *activities: StrictActivity) -> None:
    """Queue activities for publishing, in order, in the caller's transaction."""
    rows = []
    for activity in activities:
        key = activity_key(activity)
        headers = {"traceparent": activity.traceparent} if activity.traceparent else {}
        rows.append((activity.tenant, activity.id, key, bucket_of(key), encode(activity), headers))
    await conn.executemany(
        "INSERT INTO outbox (tenant_id, activity_id, key, bucket, payload, headers) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        rows,
    )
    # Delivered at commit, so the relay wakes only for rows it can see.
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
