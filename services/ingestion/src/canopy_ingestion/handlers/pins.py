"""Pinning posts in a group (its AS2 ``featured`` collection): its admins and owners pin and
unpin the first posts of its threads, at most :data:`~canopy_ingestion.domain.pins.MAX_PINS`;
everyone who sees the group lists the pinned posts they may see, newest pin first.

- ``Add`` {actor: the admin, object: the whole post, target: the featured collection
  (``<group id>/featured``, :func:`canopy_common.vocabulary.builders.featured_doc`)},
  addressed like the post (its visibility, its thread as ``context``).
- ``Remove`` {actor: the admin, object: the post's id, target: the featured collection}, with
  the group's visibility: the post may be gone by then.

Fanout keeps a projection of them so the group feed can show pins first (§5.8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from canopy_common.db import Connection
from canopy_common.errors import InvalidInput, NotFound
from canopy_common.paging import decode_cursor, encode_cursor, trim
from canopy_common.tracing import current_traceparent
from canopy_common.vocabulary.builders import featured_doc
from canopy_ingestion.adapters import outbox
from canopy_ingestion.adapters import pins as store
from canopy_ingestion.domain.activities import activity
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.permissions import decide_pin
from canopy_ingestion.domain.pins import check_room_for_pin
from canopy_ingestion.handlers.group_views import Listed
from canopy_ingestion.handlers.groups import activity_visibility, visible_group
from canopy_ingestion.handlers.post_views import (
    Doc,
    about_post,
    load_object,
    render_for,
    sees,
    visible_post,
)


@dataclass(frozen=True)
class Pinned:
    """A pin: the post, by whom, when; ``created`` is False when it was pinned already."""

    group_id: str
    post_id: str
    pinned_by: str
    pinned_at: datetime
    created: bool = True


async def pin(group_id: str, post_id: str, *, conn: Connection, actor: User) -> Pinned:
    """Pin a post of the group that the admin sees; pinning it again changes nothing."""
    access = await visible_group(conn, actor, group_id)  # locked: pins are counted
    found = access.group
    decide_pin(actor, found, actor_role=access.role)
    ctx = await visible_post(conn, actor, post_id)
    if ctx.post.group_id != found.id:
        raise NotFound(f"no post {post_id!r} in group {group_id!r}")
    if ctx.post.in_reply_to is not None:
        raise InvalidInput(
            "only the first post of a thread can be pinned, not a reply",
            extra={"field": "post_id"},
        )
    existing = await store.get_pin(conn, actor.tenant_id, found.id, post_id)
    if existing is not None:
        return Pinned(found.id, post_id, *existing, created=False)
    check_room_for_pin(found.id, await store.count_live(conn, actor.tenant_id, found.id))
    obj = await load_object(conn, ctx)
    added = about_post(
        "Add",
        actor,
        ctx.post,
        obj,
        found,
        target=featured_doc(found.id),
        traceparent=current_traceparent(),
    )
    at = await store.pin(
        conn, actor.tenant_id, found.id, post_id, by=actor.id, activity_id=added.id
    )
    await outbox.append(conn, added)
    return Pinned(found.id, post_id, actor.id, at)


async def unpin(group_id: str, post_id: str, *, conn: Connection, actor: User) -> None:
    """Unpin a post (404 when it is not pinned in the group)."""
    access = await visible_group(conn, actor, group_id)
    found = access.group
    decide_pin(actor, found, actor_role=access.role)
    if not await store.unpin(conn, actor.tenant_id, found.id, post_id):
        raise NotFound(f"post {post_id!r} is not pinned in group {group_id!r}")
    removed = activity(
        "Remove",
        actor=actor,
        obj=post_id,
        target=featured_doc(found.id),
        visibility=activity_visibility(found),
        traceparent=current_traceparent(),
    )
    await outbox.append(conn, removed)


async def list_pins(
    group_id: str, *, conn: Connection, actor: User, limit: int, cursor: str | None
) -> Listed[tuple[Doc, store.PinnedPost]]:
    """The group's pinned posts the caller may see, newest pin first (404 for a group they
    do not see), each as its AS2 document."""
    after = decode_cursor(cursor, (datetime, str)) if cursor is not None else None
    access = await visible_group(conn, actor, group_id, lock=False)
    rows = await store.pinned_posts(
        conn, actor.tenant_id, access.group.id, actor.id, limit=limit + 1, after=after
    )
    page, more = trim(rows, limit)
    shown = {row.context.post.id: row for row in page if sees(actor, row.context)}
    # Each as the caller reads any post (reactions, bookmarked, ...): one query per kind.
    docs = await render_for(conn, actor, [row.context for row in shown.values()])
    items = [(doc, shown[doc["id"]]) for doc in docs]
    last = page[-1] if page else None
    return Listed(
        items, encode_cursor(last.pinned_at, last.context.post.id) if more and last else None
    )
