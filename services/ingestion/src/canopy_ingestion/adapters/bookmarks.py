"""A person's bookmarks (migration 0009, docs/architecture.md §16): private to them, so no
activity is published; erasure drops them (``people.remove_relations``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from canopy_common.db import Connection
from canopy_ingestion.adapters.posts import PostContext, context_from_row, select_contexts


async def add_bookmark(conn: Connection, tenant_id: str, user_id: str, post_id: str) -> bool:
    """Bookmark a post; whether it was not bookmarked yet (a repeat keeps the first time)."""
    status: str = await conn.execute(
        "INSERT INTO bookmarks (tenant_id, user_id, post_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        tenant_id,
        user_id,
        post_id,
    )
    return status == "INSERT 0 1"


async def remove_bookmark(conn: Connection, tenant_id: str, user_id: str, post_id: str) -> bool:
    """Take a bookmark away; whether there was one."""
    status: str = await conn.execute(
        "DELETE FROM bookmarks WHERE tenant_id = $1 AND user_id = $2 AND post_id = $3",
        tenant_id,
        user_id,
        post_id,
    )
    return status == "DELETE 1"


@dataclass(frozen=True)
class Bookmarked:
    post: PostContext
    at: datetime  # when it was bookmarked


async def bookmarks_page(
    conn: Connection,
    tenant_id: str,
    user_id: str,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Bookmarked]:
    """Up to ``limit`` of the person's bookmarks of live posts, newest bookmarked first, after
    ``after`` (the (bookmarked at, post id) of the last one seen), each post as the person
    meets it — whether they still see it is for the visibility rule to decide."""
    sql = select_contexts(
        "$2",
        source="bookmarks b JOIN posts p ON p.tenant_id = b.tenant_id AND p.id = b.post_id",
        columns=", b.created_at AS bookmarked_at",
    ) + ("WHERE b.tenant_id = $1 AND b.user_id = $2 AND p.deleted_at IS NULL ")
    args: list[object] = [tenant_id, user_id, limit]
    if after is not None:
        sql += "AND (b.created_at, b.post_id) < ($4, $5) "
        args += after
    rows = await conn.fetch(sql + "ORDER BY b.created_at DESC, b.post_id DESC LIMIT $3", *args)
    return [Bookmarked(context_from_row(row), row["bookmarked_at"]) for row in rows]
