"""Objects upstream systems own (tasks, events, documents, links), keyed by their own IRI."""

from __future__ import annotations

from canopy_common.db import Connection
from canopy_ingestion.adapters.posts import post_from_row
from canopy_ingestion.domain.model import Post


async def get_object(conn: Connection, tenant_id: str, object_id: str) -> Post | None:
    """The object, deleted or not (an upstream Update may revive what a Delete removed)."""
    row = await conn.fetchrow(
        "SELECT * FROM posts WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant_id, object_id
    )
    return post_from_row(row) if row else None


async def save_object(conn: Connection, post: Post) -> None:
    """Insert or replace an upstream object with every field it carries."""
    await conn.execute(
        "INSERT INTO posts (tenant_id, id, author_id, kind, as2_type, name, content, group_id, "
        "  visibility, to_ids, thread_id, url, start_time, end_time, source, extra, "
        "  created_at, updated_at, deleted_at, status) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
        "  $17, $18, NULL, $19) "
        "ON CONFLICT (tenant_id, id) DO UPDATE SET author_id = $3, kind = $4, as2_type = $5, "
        "  name = $6, content = $7, group_id = $8, visibility = $9, to_ids = $10, url = $12, "
        "  start_time = $13, end_time = $14, source = $15, extra = $16, updated_at = $18, "
        "  deleted_at = NULL, status = $19",
        post.tenant_id,
        post.id,
        post.author_id,
        post.kind.value,
        post.as2_type,
        post.name,
        post.content,
        post.group_id,
        post.visibility.value,
        list(post.to_ids),
        post.thread_id,
        post.url,
        post.start_time,
        post.end_time,
        post.source,
        post.extra,
        post.published,
        post.updated,
        post.status.value if post.status else None,
    )
