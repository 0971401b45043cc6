"""Objects upstream systems own (tasks, events, documents, links), keyed by their own IRI.

A batch of upstream events loads the objects it touches in one query (locked until its
transaction ends) and writes their final states back in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from canopy_common.db import Connection
from canopy_ingestion.adapters.keyed_fetch import fetch_by_keys
from canopy_ingestion.adapters.posts import post_from_row
from canopy_ingestion.domain.model import Post

ObjectKey = tuple[str, str]  # (tenant id, object IRI)

# In key order, so two transactions locking overlapping objects queue instead of deadlocking.
_LOAD = """
SELECT p.* FROM posts p
JOIN unnest($1::text[], $2::text[]) AS wanted (tenant_id, id)
  ON p.tenant_id = wanted.tenant_id AND p.id = wanted.id
ORDER BY p.tenant_id, p.id
FOR UPDATE OF p
"""
# Every column: the rows are complete final states (a row inserted and then deleted within
# one batch is written once, deleted). A deletion is stamped now(), as a single Delete is.
_COLUMNS = (
    "tenant_id text, id text, author_id text, kind text, as2_type text, name text, "
    "content text, group_id text, visibility text, to_ids text[], in_reply_to text, "
    "thread_id text, mentions text[], hashtags text[], accepted_answer_id text, url text, "
    "start_time timestamptz, end_time timestamptz, source text, extra jsonb, "
    "created_at timestamptz, updated_at timestamptz, status text, deleted boolean"
)
_NAMES = [column.split()[0] for column in _COLUMNS.split(", ")][:-1]
_SAVE = f"""
INSERT INTO posts ({", ".join(_NAMES)}, deleted_at)
SELECT {", ".join(_NAMES)}, CASE WHEN deleted THEN now() END
FROM jsonb_to_recordset($1::jsonb) AS saved ({_COLUMNS})
ON CONFLICT (tenant_id, id) DO UPDATE SET
{", ".join(f"{name} = EXCLUDED.{name}" for name in [*_NAMES[2:], "deleted_at"])}
"""


async def load_objects(conn: Connection, keys: Iterable[ObjectKey]) -> dict[ObjectKey, Post]:
    """The objects that exist among ``keys``, deleted or not (an upstream Update may revive
    what a Delete removed), locked until the transaction ends."""
    rows = await fetch_by_keys(conn, _LOAD, keys)
    return {(row["tenant_id"], row["id"]): post_from_row(row) for row in rows}


async def save_objects(conn: Connection, posts: Sequence[Post]) -> None:
    """Insert or replace objects with every field they carry, in one statement."""
    if posts:
        await conn.execute(_SAVE, [_row(post) for post in posts])


def _row(post: Post) -> dict[str, Any]:
    return {
        "tenant_id": post.tenant_id,
        "id": post.id,
        "author_id": post.author_id,
        "kind": post.kind.value,
        "as2_type": post.as2_type,
        "name": post.name,
        "content": post.content,
        "group_id": post.group_id,
        "visibility": post.visibility.value,
        "to_ids": post.to_ids,
        "in_reply_to": post.in_reply_to,
        "thread_id": post.thread_id,
        "mentions": post.mentions,
        "hashtags": post.hashtags,
        "accepted_answer_id": post.accepted_answer_id,
        "url": post.url,
        "start_time": post.start_time,
        "end_time": post.end_time,
        "source": post.source,
        "extra": post.extra,
        "created_at": post.published,
        "updated_at": post.updated,
        "status": post.status.value if post.status else None,
        "deleted": post.deleted,
    }
