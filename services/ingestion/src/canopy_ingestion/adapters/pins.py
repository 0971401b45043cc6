"""A group's pinned posts in the ``ingestion`` schema (migration 0010; the caller owns the
transaction). Pins of deleted posts stay as rows but are neither counted nor listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from canopy_common.db import Connection
from canopy_ingestion.adapters.posts import PostContext, context_from_row, select_contexts


@dataclass(frozen=True)
class PinnedPost:
    """A live post pinned in a group, as the viewer meets it, with who pinned it and when."""

    context: PostContext
    pinned_by: str
    pinned_at: datetime


async def get_pin(
    conn: Connection, tenant_id: str, group_id: str, post_id: str
) -> tuple[str, datetime] | None:
    """Who pinned the post in the group and when, if it is pinned."""
    row = await conn.fetchrow(
        "SELECT pinned_by, created_at FROM pins WHERE tenant_id = $1 AND group_id = $2 "
        "AND post_id = $3",
        tenant_id,
        group_id,
        post_id,
    )
    return (row["pinned_by"], row["created_at"]) if row is not None else None


async def count_live(conn: Connection, tenant_id: str, group_id: str) -> int:
    """How many live posts the group has pinned."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM pins n JOIN posts p ON p.tenant_id = n.tenant_id "
        "AND p.id = n.post_id AND p.deleted_at IS NULL "
        "WHERE n.tenant_id = $1 AND n.group_id = $2",
        tenant_id,
        group_id,
    )
    return count


async def pin(
    conn: Connection, tenant_id: str, group_id: str, post_id: str, *, by: str, activity_id: str
) -> datetime:
    """Record a pin (the caller checked there is none); when it was made."""
    at: datetime = await conn.fetchval(
        "INSERT INTO pins (tenant_id, group_id, post_id, pinned_by, activity_id) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
        tenant_id,
        group_id,
        post_id,
        by,
        activity_id,
    )
    return at


async def unpin(conn: Connection, tenant_id: str, group_id: str, post_id: str) -> bool:
    """Drop a pin; whether there was one."""
    status = await conn.execute(
        "DELETE FROM pins WHERE tenant_id = $1 AND group_id = $2 AND post_id = $3",
        tenant_id,
        group_id,
        post_id,
    )
    return bool(status.endswith(" 1"))


async def pinned_posts(
    conn: Connection,
    tenant_id: str,
    group_id: str,
    viewer_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[PinnedPost]:
    """The group's pinned live posts, newest pin first, after the ``(pinned at, post id)``
    key, each as ``viewer_id`` meets it (:func:`select_contexts`, one query)."""
    bound = "AND (n.created_at, n.post_id) < ($5, $6) " if after is not None else ""
    sql = select_contexts(
        "$3",
        source="pins n JOIN posts p ON p.tenant_id = n.tenant_id AND p.id = n.post_id "
        "AND p.deleted_at IS NULL",
        columns=", n.pinned_by, n.created_at AS pinned_at",
    ) + (
        f"WHERE n.tenant_id = $1 AND n.group_id = $2 {bound}"
        "ORDER BY n.created_at DESC, n.post_id DESC LIMIT $4"
    )
    rows = await conn.fetch(sql, tenant_id, group_id, viewer_id, limit, *(after or ()))
    return [PinnedPost(context_from_row(row), row["pinned_by"], row["pinned_at"]) for row in rows]
