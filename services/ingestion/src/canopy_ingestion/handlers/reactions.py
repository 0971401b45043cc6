"""Commands people run on someone's post: react (and take it back), share, flag; and who
reacted to a post.

Like :mod:`canopy_ingestion.handlers.posts`, each runs in the caller's transaction and appends
its activity to the outbox there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import Conflict, InvalidInput, NotFound
from canopy_common.events import Visibility, new_activity_id
from canopy_common.iris import user_iri
from canopy_common.paging import Page, decode_cursor, encode_cursor, trim
from canopy_ingestion.adapters import outbox
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.adapters.reactors import reactions_page, sharing_a_group
from canopy_ingestion.domain.model import ReactionKind, User
from canopy_ingestion.domain.permissions import can_see_person
from canopy_ingestion.domain.text import clean_block
from canopy_ingestion.handlers.post_views import (
    about_post,
    live_post,
    load_object,
    visible_post,
)

MAX_FLAG_REASON_CHARS = 1_000  # a report, not an essay
# Shared further, these would reach people outside the author's chosen audience.
_NOT_SHAREABLE = frozenset({Visibility.FOLLOWERS, Visibility.DIRECT})


async def react(post_id: str, kind: ReactionKind, *, conn: Connection, actor: User) -> Reply:
    """Add a reaction: 201 and a Like the first time, 200 and nothing new after that."""
    ctx = await visible_post(conn, actor, post_id)
    post = ctx.post
    created, like_id, reacted_at = await store.add_reaction(
        conn, post.tenant_id, post.id, actor.id, kind, new_activity_id()
    )
    if created:
        obj = await load_object(conn, ctx)
        like = about_post(
            "Like", actor, post, obj, ctx.group, activity_id=like_id, reaction=kind.value
        )
        await outbox.append(conn, like)
    body = {
        "post_id": post.id,
        "kind": kind.value,
        "activity_id": like_id,
        "reacted_at": reacted_at.isoformat(),
    }
    return Reply(201 if created else 200, body)


async def unreact(post_id: str, kind: ReactionKind, *, conn: Connection, actor: User) -> None:
    """Take a reaction back and publish the Undo of its Like; 404 when there is none.

    Allowed even when the post has since become hidden from the person: it is their reaction.
    """
    ctx = await live_post(conn, actor, post_id)
    if ctx is None:
        raise NotFound(f"no post {post_id!r}")
    post = ctx.post
    like_id = await store.remove_reaction(conn, post.tenant_id, post.id, actor.id, kind)
    if like_id is None:
        raise NotFound(f"you have not reacted to this post with {kind.value!r}")
    like: dict[str, Any] = {
        "type": "Like",
        "id": like_id,
        "actor": user_iri(actor.tenant_id, actor.id),
        "object": {
            "type": post.as2_type,
            "id": post.id,
            "attributedTo": user_iri(post.tenant_id, post.author_id),
        },
        "reaction": kind.value,
    }
    await outbox.append(conn, about_post("Undo", actor, post, like, ctx.group))


async def share(post_id: str, *, conn: Connection, actor: User) -> Reply:
    """Announce a post to its own audience (a share never widens who may see it)."""
    ctx = await visible_post(conn, actor, post_id)
    if ctx.post.visibility in _NOT_SHAREABLE:
        raise InvalidInput(
            f"a {ctx.post.visibility} post cannot be shared: it was meant for its audience only"
        )
    announce = about_post("Announce", actor, ctx.post, await load_object(conn, ctx), ctx.group)
    await outbox.append(conn, announce)
    return Reply(201, announce.document())


async def flag(post_id: str, reason: str, *, conn: Connection, actor: User) -> Reply:
    """Report a post to the tenant's moderators: a flags row and a Flag (direct, no `to`:
    the notification service routes it to moderators). A person's second report of a post
    while the first is open is a 409; after a decision they may report it again."""
    ctx = await visible_post(conn, actor, post_id)
    post = ctx.post
    reason = clean_block(reason, field="reason", max_length=MAX_FLAG_REASON_CHARS)
    if not reason:
        raise InvalidInput("reason: say why the post is a problem", extra={"field": "reason"})
    flag_id = new_activity_id()
    flagged_at = await store.insert_flag(conn, post.tenant_id, flag_id, post.id, actor.id, reason)
    if flagged_at is None:
        raise Conflict("you have already reported this post; moderators have not decided yet")
    report = about_post(
        "Flag",
        actor,
        post,
        await load_object(conn, ctx),
        ctx.group,
        activity_id=flag_id,
        visibility=Visibility.DIRECT.value,
        to=None,
        content=reason,
    )
    await outbox.append(conn, report)
    body = {
        "id": flag_id,
        "post_id": post.id,
        "reason": reason,
        "flagged_at": flagged_at.isoformat(),
    }
    return Reply(201, body)


async def list_reactions(
    post_id: str,
    *,
    conn: Connection,
    actor: User,
    kind: ReactionKind | None,
    limit: int,
    cursor: str | None,
    moderator: bool = False,
) -> Page[dict[str, Any]]:
    """Who reacted to a post the actor may see (404 otherwise), newest first, ``kind`` only
    if given: each person as far as the actor may see them (a guest sees the people they
    share a group with; people no longer active are not listed), so a page may hold fewer
    than ``limit``."""
    ctx = await visible_post(conn, actor, post_id, moderator=moderator)
    after = decode_cursor(cursor, (datetime, str, str)) if cursor else None
    rows = await reactions_page(
        conn,
        actor.tenant_id,
        ctx.post.id,
        kind=kind,
        after=(after[0], after[1], after[2]) if after else None,
        limit=limit + 1,
    )
    page, more = trim(rows, limit)
    shared = set[str]()
    if actor.is_guest:
        shared = await sharing_a_group(conn, actor.tenant_id, actor.id, (r.person.id for r in page))
    items = [
        {
            "user_id": r.person.id,
            "handle": r.person.handle,
            "display_name": r.person.display_name,
            "kind": r.kind.value,
            "reacted_at": r.at.isoformat(),
        }
        for r in page
        if can_see_person(actor, r.person, shares_group=r.person.id in shared)
    ]
    return Page(items=items, next_cursor=encode_cursor(*page[-1].key) if more else None)
