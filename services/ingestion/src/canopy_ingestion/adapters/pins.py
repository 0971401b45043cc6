"""A group's pinned posts in the ``ingestion`` schema (migration 0010; the caller owns the
transaction). Pins of deleted posts stay as rows but are neither counted nor listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from canopy_common.db import Connection
from canopy_ingestion.adapters.posts import post_from_row
from canopy_ingestion.domain.model import Post


@dataclass(frozen=True)
class PinnedPost:
    """A live post pinned in a group: by whom, when, whether the viewer follows its author
    and whether either blocked the other (what seeing it may depend on)."""

    post: Post
    pinned_by: str
    pinned_at: datetime
    viewer_follows_author: bool
    viewer_blocked: bool = False


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
    key; with whether ``viewer_id`` follows each author (one query)."""
    bound = "AND (n.created_at, n.post_id) < ($5, $6)" if after is not None else ""
    rows = await conn.fetch(
        "SELECT p.*, n.pinned_by, n.created_at AS pinned_at, EXISTS ("
        "  SELECT 1 FROM follows f WHERE f.tenant_id = p.tenant_id AND f.follower_id = $3 "
        "  AND f.followee_id = p.author_id) AS viewer_follows_author, EXISTS ("
        "  SELECT 1 FROM blocks b WHERE b.tenant_id = p.tenant_id AND ("
        "    (b.blocker_id = $3 AND b.blocked_id = p.author_id)"
        "    OR (b.blocker_id = p.author_id AND b.blocked_id = $3))) AS viewer_blocked "
        "FROM pins n JOIN posts p ON p.tenant_id = n.tenant_id AND p.id = n.post_id "
        "  AND p.deleted_at IS NULL "
        f"WHERE n.tenant_id = $1 AND n.group_id = $2 {bound} "
        "ORDER BY n.created_at DESC, n.post_id DESC LIMIT $4",
        tenant_id,
        group_id,
        viewer_id,
        limit,
        *(after or ()),
    )
    return [
        PinnedPost(
            post_from_row(row),
            row["pinned_by"],
            row["pinned_at"],
            row["viewer_follows_author"],
            row["viewer_blocked"],
        )
        for row in rows
    ]
