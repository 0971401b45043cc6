"""Posts, reactions and flags in the ``ingestion`` schema (the caller owns the transaction).

Reads for a request load a post together with everything deciding who may see it — its
group, the viewer's role there, whether the viewer follows the author, the author of the post
it replies to — in one query (:func:`select_contexts`: a thread, a page of questions or of
bookmarks the same way), and what a page of posts is to its reader (reactions, replies,
bookmarks: :func:`reader_views`) in one more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from canopy_common.db import Connection
from canopy_common.events import Visibility
from canopy_ingestion.adapters.groups import group_from_row
from canopy_ingestion.adapters.outbox import Statement
from canopy_ingestion.domain.model import (
    Group,
    GroupVisibility,
    MemberRole,
    Post,
    PostKind,
    ReactionKind,
    TaskStatus,
)


@dataclass(frozen=True)
class PostContext:
    """A post with what a viewer's access to it depends on."""

    post: Post
    group: Group | None
    viewer_role: MemberRole | None  # the viewer's role in the post's group
    viewer_follows_author: bool
    reply_author_id: str | None  # the author of the post it replies to
    # Whether the viewer and the author blocked each other (either way): the post is hidden.
    blocked: bool = False


def post_from_row(row: asyncpg.Record | Mapping[str, Any]) -> Post:
    return Post(
        tenant_id=row["tenant_id"],
        id=row["id"],
        author_id=row["author_id"],
        kind=PostKind(row["kind"]),
        as2_type=row["as2_type"],
        content=row["content"],
        visibility=Visibility(row["visibility"]),
        thread_id=row["thread_id"],
        published=row["created_at"],
        updated=row["updated_at"],
        group_id=row["group_id"],
        name=row["name"],
        to_ids=tuple(row["to_ids"]),
        in_reply_to=row["in_reply_to"],
        mentions=tuple(row["mentions"]),
        hashtags=tuple(row["hashtags"]),
        accepted_answer_id=row["accepted_answer_id"],
        url=row["url"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        status=TaskStatus(row["status"]) if row["status"] else None,
        source=row["source"],
        extra=row["extra"],
        deleted=row["deleted_at"] is not None,
    )


def select_contexts(viewer: str, *, source: str = "posts p", columns: str = "") -> str:
    """``SELECT ... FROM`` posts as a viewer meets them — the post, its group, the viewer's role
    there, follow of the author and block between them either way, the author of the post it
    replies to — for every read of
    posts (one row type: :func:`context_from_row`). ``viewer`` is the parameter holding the
    viewer's id (``$3``), ``source`` the relation naming the posts ``p``, ``columns`` more."""
    return f"""
SELECT p.*,
       parent.author_id AS reply_author_id,
       g.name AS group_name, g.visibility AS group_visibility, g.owner_id AS group_owner_id,
       g.description AS group_description, g.archived_at AS group_archived_at,
       m.role AS viewer_role,
       EXISTS (
           SELECT 1 FROM follows f
           WHERE f.tenant_id = p.tenant_id AND f.follower_id = {viewer}
             AND f.followee_id = p.author_id
       ) AS viewer_follows_author,
       EXISTS (
           SELECT 1 FROM blocks b
           WHERE b.tenant_id = p.tenant_id
             AND ((b.blocker_id = {viewer} AND b.blocked_id = p.author_id)
               OR (b.blocker_id = p.author_id AND b.blocked_id = {viewer}))
       ) AS viewer_blocked
       {columns}
FROM {source}
LEFT JOIN posts parent ON parent.tenant_id = p.tenant_id AND parent.id = p.in_reply_to
LEFT JOIN groups g ON g.tenant_id = p.tenant_id AND g.id = p.group_id
LEFT JOIN memberships m
       ON m.tenant_id = p.tenant_id AND m.group_id = p.group_id AND m.user_id = {viewer}
"""


_CONTEXT_SQL = (
    select_contexts("$3") + "WHERE p.tenant_id = $1 AND p.id = $2 AND p.deleted_at IS NULL"
)
_THREAD_SQL = (
    select_contexts("$3")
    + "WHERE p.tenant_id = $1 AND p.thread_id = $2 ORDER BY p.created_at, p.id LIMIT $4"
)


def context_from_row(row: asyncpg.Record) -> PostContext:
    """A :class:`PostContext` from a row of :func:`select_contexts`."""
    group = None
    if row["group_name"] is not None:
        group = Group(
            tenant_id=row["tenant_id"],
            id=row["group_id"],
            name=row["group_name"],
            visibility=GroupVisibility(row["group_visibility"]),
            owner_id=row["group_owner_id"],
            description=row["group_description"],
            archived_at=row["group_archived_at"],
        )
    return PostContext(
        post=post_from_row(row),
        group=group,
        viewer_role=MemberRole(row["viewer_role"]) if row["viewer_role"] else None,
        viewer_follows_author=row["viewer_follows_author"],
        reply_author_id=row["reply_author_id"],
        blocked=row["viewer_blocked"],
    )


async def post_context(
    conn: Connection, tenant_id: str, post_id: str, viewer_id: str, *, for_update: bool = False
) -> PostContext | None:
    """A live (not deleted) post of the tenant as ``viewer_id`` meets it; None if there is none.

    ``for_update`` locks the post's row until the transaction ends (edits, accepts, deletes).
    """
    sql = _CONTEXT_SQL + (" FOR UPDATE OF p" if for_update else "")
    row = await conn.fetchrow(sql, tenant_id, post_id, viewer_id)
    return context_from_row(row) if row is not None else None


async def thread_posts(
    conn: Connection, tenant_id: str, thread_id: str, viewer_id: str, *, limit: int
) -> list[PostContext]:
    """The first ``limit`` posts of a thread, oldest first, deleted ones too, each as
    ``viewer_id`` meets it (one query)."""
    rows = await conn.fetch(_THREAD_SQL, tenant_id, thread_id, viewer_id, limit)
    return [context_from_row(row) for row in rows]


@dataclass(frozen=True)
class ReaderView:
    """What a post is to one reader beyond the post itself (docs/architecture.md §16)."""

    reactions: dict[str, int]  # count per reaction kind (kinds without any left out)
    mine: tuple[str, ...]  # the reader's reaction kinds
    replies: int  # live direct replies
    bookmarked: bool  # by the reader
    accepted_answer_id: str | None  # a question's accepted answer, while it is live
    accepted: bool  # an answer its question accepted


NO_VIEW = ReaderView({}, (), 0, False, None, False)

_VIEWS_SQL = """
SELECT p.id,
       (SELECT coalesce(jsonb_object_agg(k.kind, k.n), '{}'::jsonb)
        FROM (SELECT r.kind, count(*) AS n FROM reactions r
              WHERE r.tenant_id = p.tenant_id AND r.post_id = p.id GROUP BY r.kind) k
       ) AS reactions,
       ARRAY(SELECT r.kind FROM reactions r
             WHERE r.tenant_id = p.tenant_id AND r.post_id = p.id AND r.user_id = $3
             ORDER BY r.kind) AS mine,
       (SELECT count(*) FROM posts c
        WHERE c.tenant_id = p.tenant_id AND c.in_reply_to = p.id AND c.deleted_at IS NULL
       ) AS replies,
       EXISTS (SELECT 1 FROM bookmarks b
               WHERE b.tenant_id = p.tenant_id AND b.user_id = $3 AND b.post_id = p.id
       ) AS bookmarked,
       (SELECT a.id FROM posts a
        WHERE a.tenant_id = p.tenant_id AND a.id = p.accepted_answer_id AND a.deleted_at IS NULL
       ) AS accepted_answer_id,
       EXISTS (SELECT 1 FROM posts q
               WHERE q.tenant_id = p.tenant_id AND q.id = p.in_reply_to
                 AND q.accepted_answer_id = p.id
       ) AS accepted
FROM posts p
WHERE p.tenant_id = $1 AND p.id = ANY($2::text[])
"""


async def reader_views(
    conn: Connection, tenant_id: str, post_ids: Sequence[str], reader_id: str
) -> dict[str, ReaderView]:
    """The :class:`ReaderView` of each post for ``reader_id``, for a whole page in one query
    (each figure an index lookup per post: no query per post)."""
    if not post_ids:
        return {}
    rows = await conn.fetch(_VIEWS_SQL, tenant_id, list(post_ids), reader_id)
    return {
        row["id"]: ReaderView(
            reactions=dict(row["reactions"]),
            mine=tuple(row["mine"]),
            replies=row["replies"],
            bookmarked=row["bookmarked"],
            accepted_answer_id=row["accepted_answer_id"],
            accepted=row["accepted"],
        )
        for row in rows
    }


async def group_with_role(
    conn: Connection, tenant_id: str, group_id: str, user_id: str
) -> tuple[Group, MemberRole | None] | None:
    """A group of the tenant and the person's role in it (None: not a member), in one query."""
    row = await conn.fetchrow(
        "SELECT g.*, m.role FROM groups g "
        "LEFT JOIN memberships m "
        "  ON m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id = $3 "
        "WHERE g.tenant_id = $1 AND g.id = $2",
        tenant_id,
        group_id,
        user_id,
    )
    if row is None:
        return None
    return group_from_row(row), MemberRole(row["role"]) if row["role"] else None


async def has_guest_members(conn: Connection, tenant_id: str, group_id: str) -> bool:
    """Whether an active guest belongs to the group (so its posts reach a guest)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u "
        "  ON u.tenant_id = m.tenant_id AND u.id = m.user_id "
        "  WHERE m.tenant_id = $1 AND m.group_id = $2 AND u.kind = 'guest' AND u.active)",
        tenant_id,
        group_id,
    )
    return found


async def insert_post(conn: Connection, post: Post) -> None:
    statement = insert_post_statement(post)
    await conn.execute(statement.sql, *statement.args)


def insert_post_statement(post: Post) -> Statement:
    """The INSERT of a new post (to run with its activities: ``outbox.append_after``)."""
    return Statement(
        "INSERT INTO posts (tenant_id, id, author_id, kind, as2_type, name, content, group_id, "
        "  visibility, to_ids, in_reply_to, thread_id, mentions, hashtags, source, "
        "  created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        (
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
            post.in_reply_to,
            post.thread_id,
            list(post.mentions),
            list(post.hashtags),
            post.source,
            post.published,
        ),
    )


def update_post_statement(post: Post) -> Statement:
    """Store an edit: content, title, audience, resolved mentions and hashtags."""
    return Statement(
        "UPDATE posts SET content = $3, name = $4, visibility = $5, to_ids = $6, mentions = $7, "
        "  hashtags = $8, updated_at = $9 "
        "WHERE tenant_id = $1 AND id = $2",
        (
            post.tenant_id,
            post.id,
            post.content,
            post.name,
            post.visibility.value,
            list(post.to_ids),
            list(post.mentions),
            list(post.hashtags),
            post.updated,
        ),
    )


async def mark_deleted(conn: Connection, tenant_id: str, post_id: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE posts SET deleted_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        post_id,
        at,
    )


async def set_accepted_answer(
    conn: Connection, tenant_id: str, question_id: str, answer_id: str, at: datetime
) -> None:
    await conn.execute(
        "UPDATE posts SET accepted_answer_id = $3, updated_at = $4 "
        "WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        question_id,
        answer_id,
        at,
    )


# --- reactions ----------------------------------------------------------------------------------


async def add_reaction(
    conn: Connection,
    tenant_id: str,
    post_id: str,
    user_id: str,
    kind: ReactionKind,
    activity_id: str,
) -> tuple[bool, str, datetime]:
    """Record a reaction: (whether it is new, the id of its Like, when it was made).

    One round trip: a repeated reaction "updates" its row to itself, which returns it and
    locks it against a concurrent removal; ``xmax = 0`` tells a fresh row from an old one.
    """
    row = await conn.fetchrow(
        "INSERT INTO reactions (tenant_id, post_id, user_id, kind, activity_id) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (tenant_id, post_id, user_id, kind) DO UPDATE SET kind = reactions.kind "
        "RETURNING activity_id, created_at, (xmax = 0) AS inserted",
        tenant_id,
        post_id,
        user_id,
        kind.value,
        activity_id,
    )
    assert row is not None
    return row["inserted"], row["activity_id"], row["created_at"]


async def remove_reaction(
    conn: Connection, tenant_id: str, post_id: str, user_id: str, kind: ReactionKind
) -> str | None:
    """Remove a reaction; the id of the Like it undoes, or None when there was none."""
    activity_id: str | None = await conn.fetchval(
        "DELETE FROM reactions "
        "WHERE tenant_id = $1 AND post_id = $2 AND user_id = $3 AND kind = $4 "
        "RETURNING activity_id",
        tenant_id,
        post_id,
        user_id,
        kind.value,
    )
    return activity_id


# --- flags --------------------------------------------------------------------------------------


def insert_flag_statement(
    tenant_id: str, flag_id: str, post_id: str, reporter_id: str, reason: str, rule: str
) -> Statement:
    """The INSERT of a flag the content policy raised (to run with the post's write)."""
    return Statement(
        "INSERT INTO flags (tenant_id, id, post_id, reporter_id, reason, rule) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        (tenant_id, flag_id, post_id, reporter_id, reason, rule),
    )


async def insert_flag(
    conn: Connection,
    tenant_id: str,
    flag_id: str,
    post_id: str,
    reporter_id: str,
    reason: str,
    *,
    rule: str | None = None,
) -> datetime | None:
    """Record a flag; ``rule`` names the content rules when the policy raised it. None when
    the reporter has an open report of the post already (one per person, migration 0008)."""
    created: datetime | None = await conn.fetchval(
        "INSERT INTO flags (tenant_id, id, post_id, reporter_id, reason, rule) "
        "VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (tenant_id, post_id, reporter_id) WHERE rule IS NULL AND resolved_at IS NULL "
        "DO NOTHING RETURNING created_at",
        tenant_id,
        flag_id,
        post_id,
        reporter_id,
        reason,
        rule,
    )
    return created
