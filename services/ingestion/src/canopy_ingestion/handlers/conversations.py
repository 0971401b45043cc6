"""Direct conversations: the caller's direct threads, newest activity first, and how far they
read each (docs/architecture.md §16; the rules are in :mod:`domain.conversations`).

Private to the caller: reading or marking read publishes nothing. The read state lives in
ingestion (migration 0012) beside the posts it points into; the thread's messages themselves
are read with ``GET /v1/posts/{id}/context``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import InvalidInput, NotFound
from canopy_common.paging import Page, decode_cursor, encode_cursor, trim
from canopy_ingestion.adapters import conversations as store
from canopy_ingestion.adapters.conversations import Conversation
from canopy_ingestion.adapters.people import get_users
from canopy_ingestion.domain.conversations import others
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.visibility import can_see_post
from canopy_ingestion.handlers.post_views import render_for


@dataclass(frozen=True)
class ConversationView:
    """A conversation as its reader is shown it."""

    id: str  # the thread's id: its first post's
    participants: list[User]  # everyone in it but the reader
    last_post: dict[str, Any]  # as GET /v1/posts/{id} answers it
    last_activity_at: datetime
    unread_count: int
    last_read_id: str | None

    @property
    def unread(self) -> bool:
        return self.unread_count > 0


async def list_conversations(
    *, conn: Connection, actor: User, limit: int, cursor: str | None
) -> Page[ConversationView]:
    """A page of the actor's conversations, newest activity first (400 for a bad cursor)."""
    after = decode_cursor(cursor, (datetime, str)) if cursor else None
    rows = await store.conversations_page(
        conn,
        actor.tenant_id,
        actor.id,
        limit=limit + 1,
        after=(after[0], after[1]) if after else None,
    )
    page, more = trim(rows, limit)
    last = page[-1] if more and page else None
    return Page(
        items=await _views(conn, actor, page),
        next_cursor=encode_cursor(last.last_activity, last.thread_id) if last else None,
    )


async def read_conversation(thread_id: str, *, conn: Connection, actor: User) -> ConversationView:
    """One of the actor's conversations; 404 for any thread that is not theirs."""
    views = await _views(conn, actor, await _conversation(conn, actor, thread_id))
    if not views:
        raise NotFound(f"no conversation {thread_id!r}")
    return views[0]


async def mark_read(
    thread_id: str, up_to: str | None, *, conn: Connection, actor: User
) -> ConversationView:
    """Mark the conversation read up to the message ``up_to`` (by default its newest the
    actor sees); the position never moves back. 404 for a thread that is not theirs, 422 for
    an ``up_to`` that is no message of it they see."""
    found = await _conversation(conn, actor, thread_id)
    if not found:
        raise NotFound(f"no conversation {thread_id!r}")
    position = (found[0].last_activity, found[0].last.post.id)
    if up_to is not None:
        at = await store.message_position(conn, actor.tenant_id, actor.id, thread_id, up_to)
        if at is None:
            raise InvalidInput(
                f"up_to: {up_to!r} is no message of this conversation", extra={"field": "up_to"}
            )
        position = at
    await store.mark_read(conn, actor.tenant_id, actor.id, thread_id, position)
    return await read_conversation(thread_id, conn=conn, actor=actor)


async def _conversation(conn: Connection, actor: User, thread_id: str) -> list[Conversation]:
    return await store.conversations_page(
        conn, actor.tenant_id, actor.id, limit=1, thread_id=thread_id
    )


async def _views(
    conn: Connection, actor: User, found: Sequence[Conversation]
) -> list[ConversationView]:
    """The conversations whose last message the visibility rule shows the actor (the query
    chose it by the same rule: this is its backstop), with their people and last posts loaded
    in bulk — a few queries per page, whatever its size."""
    shown = [conv for conv in found if _sees(actor, conv)]
    if not shown:
        return []
    posts = await render_for(conn, actor, [conv.last for conv in shown])
    by_id = {doc["id"]: doc for doc in posts}
    people = await get_users(conn, actor.tenant_id, {u for c in shown for u in c.participant_ids})
    return [
        ConversationView(
            id=conv.thread_id,
            participants=others(actor.id, conv.participant_ids, people),
            last_post=by_id[conv.last.post.id],
            last_activity_at=conv.last_activity,
            unread_count=conv.unread,
            last_read_id=conv.read_post_id,
        )
        for conv in shown
        if conv.last.post.id in by_id  # its author has a profile left
    ]


def _sees(actor: User, conv: Conversation) -> bool:
    ctx = conv.last
    return can_see_post(
        actor,
        ctx.post,
        group=ctx.group,
        role=ctx.viewer_role,
        follows_author=ctx.viewer_follows_author,
        blocked=conv.blocked,
    )
