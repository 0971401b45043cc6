"""The transactional outbox: append canonical activities in the caller's transaction.

The relay (:mod:`canopy_ingestion.adapters.relay`) publishes them after the commit. The key is
``tenant:actor`` (docs/architecture.md §2: per-actor order), and the bucket a hash of it, so relays
running side by side never publish one key's activities out of order.

A transaction applying many changes (a batch of upstream events) collects its rows instead
(:func:`collecting`) and writes them all, in order, with one statement before it commits.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from canopy_common.db import Connection
from canopy_common.events import StrictActivity, encode
from canopy_common.iris import parse_name
from canopy_ingestion.domain.activities import CanonicalActivity

OUTBOX_BUCKETS = 64  # rows in outbox_buckets (migration 0002); relays lock buckets, not rows
NOTIFY_CHANNEL = "ingestion_outbox"

_ARRAY_TYPES = ("text", "text", "text", "int", "bytea", "jsonb", "text")


def _queue_sql(first: int) -> str:
    """The outbox insert as a WITH query (its arrays from parameter ``$first`` on), then the
    NOTIFY. The rows go in in the order given (``seq`` is drawn row by row as they are
    inserted); Postgres delivers the NOTIFY at commit, so the relay wakes only for rows it
    can see."""
    arrays = ", ".join(f"${first + i}::{kind}[]" for i, kind in enumerate(_ARRAY_TYPES))
    return f"""queued AS (
    INSERT INTO outbox (tenant_id, activity_id, key, bucket, payload, headers, topic)
    SELECT tenant_id, activity_id, key, bucket, payload, headers, topic
    FROM unnest({arrays})
         WITH ORDINALITY AS row (tenant_id, activity_id, key, bucket, payload, headers, topic, n)
    ORDER BY n
)
SELECT pg_notify('{NOTIFY_CHANNEL}', '')"""


_APPEND = f"WITH {_queue_sql(1)}"


_collected: ContextVar[list[OutboxRow] | None] = ContextVar("outbox_collected", default=None)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One activity as the outbox stores it: encoded, keyed, with its record headers.

    ``topic`` None is the activities topic; another record (an export request) names its
    own, and its ``activity_id`` is the record's id."""

    tenant_id: str
    activity_id: str
    key: str
    payload: bytes
    headers: dict[str, Any]
    topic: str | None = None


def activity_key(activity: StrictActivity | CanonicalActivity) -> str:
    """``tenant:actor``, the key of the activity's Kafka record."""
    if isinstance(activity, CanonicalActivity):
        actor_iri = activity.actor_iri
    else:
        actor = activity.actor
        actor_iri = actor if isinstance(actor, str) else getattr(actor, "id", None)
    name = parse_name(actor_iri) if isinstance(actor_iri, str) else None
    return f"{activity.tenant}:{name.key if name else actor_iri}"


def bucket_of(key: str) -> int:
    return zlib.crc32(key.encode()) % OUTBOX_BUCKETS


def outbox_row(activity: StrictActivity | CanonicalActivity) -> OutboxRow:
    """The row that publishes ``activity`` (its traceparent, if any, as a record header)."""
    payload = activity.payload() if isinstance(activity, CanonicalActivity) else encode(activity)
    headers = {"traceparent": activity.traceparent} if activity.traceparent else {}
    return OutboxRow(activity.tenant, activity.id, activity_key(activity), payload, headers)


async def append(conn: Connection, *activities: StrictActivity | CanonicalActivity) -> None:
    """Queue activities for publishing, in order, in the caller's transaction (inside
    :func:`collecting`, in its list)."""
    rows = [outbox_row(activity) for activity in activities]
    collected = _collected.get()
    if collected is not None:
        collected.extend(rows)
        return
    await append_rows(conn, rows)


@contextmanager
def collecting() -> Iterator[list[OutboxRow]]:
    """Inside the block, :func:`append` adds its rows to the list this yields, in order,
    instead of writing them; the caller writes them with :func:`append_rows` before its
    transaction commits (or drops them with it)."""
    rows: list[OutboxRow] = []
    token = _collected.set(rows)
    try:
        yield rows
    finally:
        _collected.reset(token)


async def append_rows(conn: Connection, rows: Sequence[OutboxRow]) -> None:
    """Queue encoded rows for publishing, in order, in one round trip."""
    if rows:
        await conn.execute(_APPEND, *_columns(rows))


@dataclass(frozen=True, slots=True)
class Statement:
    """A data-modifying SQL statement (INSERT, UPDATE or DELETE, no RETURNING) and its
    arguments ($1, $2, ...; no other ``$`` in its text)."""

    sql: str
    args: tuple[Any, ...]

    def numbered_from(self, first: int) -> str:
        """The SQL with its parameters renumbered to start at ``$first``."""
        return _PARAMETER.sub(lambda found: f"${int(found[1]) + first - 1}", self.sql)


_PARAMETER = re.compile(r"\$(\d+)")


async def append_after(
    conn: Connection,
    changes: Sequence[Statement],
    *activities: StrictActivity | CanonicalActivity,
) -> None:
    """Run ``changes`` and queue ``activities``, all in one statement (each change a WITH
    query before the outbox insert): one round trip, and atomic even outside a transaction.
    Inside :func:`collecting`, the changes run and the rows are collected."""
    rows = [outbox_row(activity) for activity in activities]
    collected = _collected.get()
    if collected is not None or not rows:
        for change in changes:
            await conn.execute(change.sql, *change.args)
        if collected is not None:
            collected.extend(rows)
        return
    parts: list[str] = []
    args: list[Any] = []
    for index, change in enumerate(changes):
        parts.append(f"change{index} AS ({change.numbered_from(len(args) + 1)})")
        args.extend(change.args)
    parts.append(_queue_sql(len(args) + 1))
    args.extend(_columns(rows))
    await conn.execute(f"WITH {', '.join(parts)}", *args)


def _columns(rows: Sequence[OutboxRow]) -> tuple[list[Any], ...]:
    return (
        [row.tenant_id for row in rows],
        [row.activity_id for row in rows],
        [row.key for row in rows],
        [bucket_of(row.key) for row in rows],
        [row.payload for row in rows],
        [row.headers for row in rows],
        [row.topic for row in rows],
    )
