"""Notifications in Postgres: recorded (grouped within a window), listed, counted, marked read,
and replayed to a reconnecting live stream. Every change takes the next ``seq``: the stream's
event id. Repositories never commit; the caller's transaction does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from canopy_common.db import Connection

_COLUMNS = (
    "n.id, n.type, n.category, n.object_id, n.object, n.group_id, n.thread_id, n.actor_count, "
    "n.urgent, n.created_at, n.updated_at, n.read_at, n.seq"
)


@dataclass(frozen=True, slots=True)
class NewNotice:
    tenant_id: str
    recipient: str
    type: str
    category: str
    group_key: str
    activity_id: str
    actor_id: str | None
    at: datetime
    object_id: str | None = None
    object: dict[str, Any] | None = None
    group_id: str | None = None
    thread_id: str | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Recorded:
    id: int
    seq: int
    created: bool  # a new notification, not an actor added to a grouped one


async def record(conn: Connection, notice: NewNotice, *, window_s: int) -> Recorded:
    """Store ``notice``: into the open notification with its group key (one begun within
    ``window_s`` of it), else as a new one. The actor counts once however often they act."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"{notice.tenant_id}\x1f{notice.recipient}\x1f{notice.group_key}",
    )
    found = await conn.fetchval(
        "SELECT id FROM notifications WHERE tenant_id = $1 AND recipient = $2 "
        "AND group_key = $3 AND created_at > $4 AND created_at <= $5 "
        "ORDER BY created_at DESC LIMIT 1",
        notice.tenant_id,
        notice.recipient,
        notice.group_key,
        notice.at - timedelta(seconds=window_s),
        notice.at + timedelta(seconds=window_s),
    )
    created = found is None
    if created:
        found = await conn.fetchval(
            "INSERT INTO notifications (tenant_id, recipient, type, category, group_key, "
            "object_id, object, group_id, thread_id, activity_id, urgent, created_at, "
            "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) "
            "RETURNING id",
            notice.tenant_id,
            notice.recipient,
            notice.type,
            notice.category,
            notice.group_key,
            notice.object_id,
            notice.object,
            notice.group_id,
            notice.thread_id,
            notice.activity_id,
            notice.urgent,
            notice.at,
        )
    if notice.actor_id is not None:
        await conn.execute(
            "INSERT INTO notification_actors (notification_id, actor_id, activity_id, at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (notification_id, actor_id) DO UPDATE SET "
            "at = greatest(notification_actors.at, EXCLUDED.at), "
            "activity_id = EXCLUDED.activity_id",
            found,
            notice.actor_id,
            notice.activity_id,
            notice.at,
        )
    seq = await conn.fetchval(
        "UPDATE notifications SET actor_count = (SELECT count(*) FROM notification_actors "
        "WHERE notification_id = $1), updated_at = greatest(updated_at, $2), "
        "activity_id = $3, object = coalesce($4, object), read_at = NULL, "
        "seq = nextval('stream_seq') WHERE id = $1 RETURNING seq",
        found,
        notice.at,
        notice.activity_id,
        notice.object,
    )
    return Recorded(int(found), int(seq), created)


async def remove_actor(conn: Connection, tenant: str, group_key: str, actor: str) -> list[int]:
    """Take back an undone reaction or share: the actor leaves every notification with this
    key; one left with nobody goes. Returns the ids changed or removed."""
    rows = await conn.fetch(
        "DELETE FROM notification_actors a USING notifications n WHERE a.notification_id = n.id "
        "AND n.tenant_id = $1 AND n.group_key = $2 AND a.actor_id = $3 RETURNING n.id",
        tenant,
        group_key,
        actor,
    )
    ids = [r["id"] for r in rows]
    if ids:
        await conn.execute(
            "UPDATE notifications SET actor_count = (SELECT count(*) FROM notification_actors "
            "WHERE notification_id = notifications.id), seq = nextval('stream_seq') "
            "WHERE id = ANY($1::bigint[])",
            ids,
        )
        await conn.execute(
            "DELETE FROM notifications WHERE id = ANY($1::bigint[]) AND actor_count = 0", ids
        )
    return ids


async def page(
    conn: Connection,
    tenant: str,
    recipient: str,
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
    categories: Sequence[str] = (),
    unread_only: bool = False,
    actors: int = 8,
) -> list[dict[str, Any]]:
    """One page, newest first (by latest activity), each with its latest ``actors``."""
    where = ["n.tenant_id = $1", "n.recipient = $2"]
    params: list[Any] = [tenant, recipient]
    if before is not None:
        params += [before[0], before[1]]
        where.append(f"(n.updated_at, n.id) < (${len(params) - 1}, ${len(params)})")
    if categories:
        params.append(list(categories))
        where.append(f"n.category = ANY(${len(params)}::text[])")
    if unread_only:
        where.append("n.read_at IS NULL")
    params.append(limit)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM notifications n WHERE {' AND '.join(where)} "
        f"ORDER BY n.updated_at DESC, n.id DESC LIMIT ${len(params)}",
        *params,
    )
    return await _with_actors(conn, tenant, rows, actors)


async def by_ids(
    conn: Connection, tenant: str, ids: Sequence[int], *, actors: int = 8
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, n.recipient FROM notifications n WHERE n.tenant_id = $1 "
        "AND n.id = ANY($2::bigint[]) ORDER BY n.seq",
        tenant,
        list(ids),
    )
    return await _with_actors(conn, tenant, rows, actors)


async def since(
    conn: Connection, tenant: str, recipient: str, seq: int, *, limit: int, actors: int = 8
) -> list[dict[str, Any]]:
    """What changed for ``recipient`` after event ``seq``, oldest first (stream replay)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM notifications n WHERE n.tenant_id = $1 AND n.recipient = $2 "
        "AND n.seq > $3 ORDER BY n.seq LIMIT $4",
        tenant,
        recipient,
        seq,
        limit,
    )
    return await _with_actors(conn, tenant, rows, actors)


async def latest_seq(conn: Connection, tenant: str, recipient: str) -> int:
    found = await conn.fetchval(
        "SELECT max(seq) FROM notifications WHERE tenant_id = $1 AND recipient = $2",
        tenant,
        recipient,
    )
    return int(found or 0)


async def unread_count(conn: Connection, tenant: str, recipient: str) -> int:
    found = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE tenant_id = $1 AND recipient = $2 "
        "AND read_at IS NULL",
        tenant,
        recipient,
    )
    return int(found or 0)


async def mark_read(
    conn: Connection,
    tenant: str,
    recipient: str,
    *,
    ids: Sequence[int] = (),
    up_to: int | None = None,
) -> int:
    """Mark ``ids`` read, or ``up_to`` and everything listed after it (older)."""
    if up_to is not None:
        status = await conn.execute(
            "UPDATE notifications SET read_at = now() WHERE tenant_id = $1 AND recipient = $2 "
            "AND read_at IS NULL AND (updated_at, id) <= (SELECT updated_at, id "
            "FROM notifications WHERE id = $3 AND tenant_id = $1 AND recipient = $2)",
            tenant,
            recipient,
            up_to,
        )
    else:
        status = await conn.execute(
            "UPDATE notifications SET read_at = now() WHERE tenant_id = $1 AND recipient = $2 "
            "AND read_at IS NULL AND id = ANY($3::bigint[])",
            tenant,
            recipient,
            list(ids),
        )
    return int(status.split()[-1])


async def _with_actors(
    conn: Connection, tenant: str, rows: Sequence[Any], limit: int
) -> list[dict[str, Any]]:
    if not rows:
        return []
    actors: dict[int, list[dict[str, Any]]] = {}
    for r in await conn.fetch(
        "SELECT a.notification_id, a.actor_id, p.name, p.handle FROM (SELECT *, row_number() "
        "OVER (PARTITION BY notification_id ORDER BY at DESC, actor_id) AS n "
        "FROM notification_actors WHERE notification_id = ANY($2::bigint[])) a "
        "LEFT JOIN people p ON p.tenant_id = $1 AND p.user_id = a.actor_id "
        "WHERE a.n <= $3 ORDER BY a.notification_id, a.n",
        tenant,
        [r["id"] for r in rows],
        limit,
    ):
        actors.setdefault(r["notification_id"], []).append(
            {"id": r["actor_id"], "name": r["name"], "preferredUsername": r["handle"]}
        )
    return [{**dict(r), "actors": actors.get(r["id"], [])} for r in rows]
