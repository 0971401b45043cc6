"""A person's direct conversations and how far they read each (migration 0012,
docs/architecture.md §16), in one keyset query per page.

The query finds the reader's messages (:data:`_MESSAGES`: live direct posts they wrote, are
addressed to or are mentioned in, none by someone they blocked or who blocked them — the
visibility rule for a direct post, which is never in a group, spelled in SQL so that the page
can be ordered and counted), groups them by thread, pages the threads by last activity, and
answers for each its last message as the reader meets it (``select_contexts``), the ids of
everyone in it, its unread count and the reader's read position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_ingestion.adapters.posts import PostContext, context_from_row, select_contexts
from canopy_ingestion.domain.conversations import NOT_MESSAGES, Position

# A block between the reader ($2) and the author of post p, either way round.
_BLOCKED = """EXISTS (
    SELECT 1 FROM blocks b
    WHERE b.tenant_id = p.tenant_id
      AND ((b.blocker_id = $2 AND b.blocked_id = p.author_id)
        OR (b.blocker_id = p.author_id AND b.blocked_id = $2)))"""

# $1 the tenant, $2 the reader, $3 the post kinds that are not messages. The participants
# expression is the one `posts_direct_participants` indexes.
_MESSAGES = f"""
SELECT p.thread_id, p.id, p.created_at, p.author_id, p.to_ids, p.mentions
FROM posts p
WHERE p.tenant_id = $1 AND p.visibility = 'direct' AND p.deleted_at IS NULL
  AND (p.to_ids || p.mentions || ARRAY[p.author_id]) @> ARRAY[$2::text]
  AND p.kind <> ALL ($3::text[])
  AND (p.author_id = $2 OR NOT {_BLOCKED})
"""

# A message is unread: someone else's, after the read position and the reader's own last one.
_UNREAD = """s.author_id <> $2
  AND (pg.read_at IS NULL OR (s.created_at, s.id) > (pg.read_at, pg.read_post_id))
  AND (pg.own_at IS NULL OR (s.created_at, s.id) > (pg.own_at, pg.own_id))"""

_NEWEST = "ORDER BY created_at DESC, id DESC"


@dataclass(frozen=True)
class Conversation:
    """A thread of direct posts as one reader has it."""

    thread_id: str
    last: PostContext  # the newest message they see
    blocked: bool  # whether the reader and that message's author (not they) blocked the other
    participant_ids: tuple[str, ...]  # everyone who wrote, was addressed or was mentioned
    unread: int
    read_post_id: str | None  # the last message they marked read

    @property
    def last_activity(self) -> datetime:
        return self.last.post.published


async def conversations_page(
    conn: Connection,
    tenant_id: str,
    reader_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    thread_id: str | None = None,
) -> list[Conversation]:
    """Up to ``limit`` of the reader's conversations, newest activity first, after ``after``
    (the (last activity, thread id) of the last one seen) — or only ``thread_id``'s."""
    args: list[Any] = [tenant_id, reader_id, [kind.value for kind in NOT_MESSAGES]]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    messages = _MESSAGES
    if thread_id is not None:
        messages += f"  AND p.thread_id = {arg(thread_id)}\n"
    keyset = ""
    if after is not None:
        keyset = f"WHERE (t.last_at, t.thread_id) < ({arg(after[0])}, {arg(after[1])})"
    sql = (
        f"""
WITH seen AS ({messages}),
threads AS (
    SELECT thread_id,
           max(created_at) AS last_at,
           (array_agg(id {_NEWEST}))[1] AS last_id,
           max(created_at) FILTER (WHERE author_id = $2) AS own_at,
           (array_agg(id {_NEWEST}) FILTER (WHERE author_id = $2))[1] AS own_id
    FROM seen GROUP BY thread_id
),
page AS (
    SELECT t.*, r.read_at, r.read_post_id
    FROM threads t
    LEFT JOIN conversation_reads r
           ON r.tenant_id = $1 AND r.user_id = $2 AND r.thread_id = t.thread_id
    {keyset}
    ORDER BY t.last_at DESC, t.thread_id DESC
    LIMIT {arg(limit)}
),
tallied AS MATERIALIZED (  -- once, not once per row of the page
    SELECT s.thread_id,
           count(DISTINCT s.id) FILTER (WHERE {_UNREAD}) AS unread,
           array_agg(DISTINCT person.id) AS participant_ids
    FROM page pg
    JOIN seen s ON s.thread_id = pg.thread_id
    CROSS JOIN LATERAL unnest(s.to_ids || s.mentions || ARRAY[s.author_id]) AS person (id)
    GROUP BY s.thread_id
)"""
        + select_contexts(
            "$2",
            source="page pg JOIN tallied c ON c.thread_id = pg.thread_id "
            "JOIN posts p ON p.tenant_id = $1 AND p.id = pg.last_id",
            columns=f", pg.thread_id AS conversation_id, pg.read_post_id, c.unread, "
            f"c.participant_ids, (p.author_id <> $2 AND {_BLOCKED}) AS author_blocked",
        )
        + "ORDER BY pg.last_at DESC, pg.thread_id DESC"
    )
    rows = await conn.fetch(sql, *args)
    return [
        Conversation(
            thread_id=row["conversation_id"],
            last=context_from_row(row),
            blocked=row["author_blocked"],
            participant_ids=tuple(row["participant_ids"]),
            unread=row["unread"],
            read_post_id=row["read_post_id"],
        )
        for row in rows
    ]


async def message_position(
    conn: Connection, tenant_id: str, reader_id: str, thread_id: str, post_id: str
) -> Position | None:
    """Where a message of the thread the reader sees stands; None for anything else."""
    row = await conn.fetchrow(
        f"SELECT created_at, id FROM ({_MESSAGES}  AND p.thread_id = $4 AND p.id = $5) m",
        tenant_id,
        reader_id,
        [kind.value for kind in NOT_MESSAGES],
        thread_id,
        post_id,
    )
    return None if row is None else (row["created_at"], row["id"])


async def mark_read(
    conn: Connection, tenant_id: str, reader_id: str, thread_id: str, up_to: Position
) -> bool:
    """Move the reader's read position in the thread forward to ``up_to``; never back (a
    device that synced late does not undo another's reading). Whether it moved."""
    status: str = await conn.execute(
        "INSERT INTO conversation_reads AS r "
        "  (tenant_id, user_id, thread_id, read_at, read_post_id) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (tenant_id, user_id, thread_id) DO UPDATE "
        "SET read_at = EXCLUDED.read_at, read_post_id = EXCLUDED.read_post_id, updated_at = now() "
        "WHERE (r.read_at, r.read_post_id) < (EXCLUDED.read_at, EXCLUDED.read_post_id)",
        tenant_id,
        reader_id,
        thread_id,
        *up_to,
    )
    return status == "INSERT 0 1"
