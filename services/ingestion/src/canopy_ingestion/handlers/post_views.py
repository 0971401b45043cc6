"""How the post handlers meet a post and speak about it: loading it as the caller may see it,
rendering it as AS2 (for a reader: with what it is to them, :func:`render_for`), and the
activities and responses that carry it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import NotFound
from canopy_common.events import CANOPY_CONTEXT
from canopy_common.iris import is_object_id, user_iri
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.adapters.people import get_users
from canopy_ingestion.adapters.posts import NO_VIEW, PostContext, ReaderView
from canopy_ingestion.domain.activities import CanonicalActivity, activity, group, post_object
from canopy_ingestion.domain.model import Group, Post, PostKind, User
from canopy_ingestion.domain.visibility import can_see_post

Doc = dict[str, Any]


async def visible_post(
    conn: Connection,
    actor: User,
    post_id: str,
    *,
    for_update: bool = False,
    moderator: bool = False,
) -> PostContext:
    """The live post as ``actor`` meets it; 404 when it does not exist, is deleted, belongs to
    another tenant or is hidden from the actor (its existence is not disclosed). Moderators
    see every post of their tenant."""
    found = await live_post(conn, actor, post_id, for_update=for_update)
    return visible(actor, post_id, found, moderator=moderator)


def visible(
    actor: User, post_id: str, found: PostContext | None, *, moderator: bool = False
) -> PostContext:
    """``found`` if ``actor`` may see it (see :func:`visible_post`), else 404."""
    if found is None or not (moderator or sees(actor, found)):
        raise NotFound(f"no post {post_id!r}")
    return found


async def live_post(
    conn: Connection, actor: User, post_id: str, *, for_update: bool = False
) -> PostContext | None:
    """The post (not deleted) of the actor's tenant, whoever may see it."""
    if not is_object_id(post_id):  # not an id Canopy makes: nothing to look up
        return None
    return await store.post_context(conn, actor.tenant_id, post_id, actor.id, for_update=for_update)


def readable(actor: User, ctx: PostContext, *, moderator: bool = False) -> bool:
    """Whether ``actor`` may read ``ctx``'s post: live, and seen by them (moderators see every
    live post of their tenant)."""
    return not ctx.post.deleted and (moderator or sees(actor, ctx))


def sees(actor: User, ctx: PostContext) -> bool:
    return can_see_post(
        actor,
        ctx.post,
        group=ctx.group,
        role=ctx.viewer_role,
        follows_author=ctx.viewer_follows_author,
        blocked=ctx.blocked,
    )


def people_of(*contexts: PostContext) -> list[str]:
    """The ids of everyone the posts' objects name: authors, mentions, replied-to authors."""
    ids: list[str] = []
    for ctx in contexts:
        ids += [ctx.post.author_id, *ctx.post.mentions]
        if ctx.reply_author_id:
            ids.append(ctx.reply_author_id)
    return ids


async def load_object(conn: Connection, ctx: PostContext) -> Doc:
    """The post's AS2 object, with the people it names loaded in one query."""
    return render(ctx, await get_users(conn, ctx.post.tenant_id, people_of(ctx)))


def render(ctx: PostContext, users: Mapping[str, User]) -> Doc:
    """The post's AS2 object from people already loaded (see :func:`people_of`)."""
    post = ctx.post
    author = users.get(post.author_id)
    if author is None:  # no profile left at all: nothing to show
        raise NotFound(f"no post {post.id!r}")
    return post_object(
        post,
        author=author,
        mentioned=tuple(users[uid] for uid in post.mentions if uid in users),
        group_of=ctx.group,
        reply_author=users.get(ctx.reply_author_id) if ctx.reply_author_id else None,
    )


async def render_for(conn: Connection, actor: User, contexts: Sequence[PostContext]) -> list[Doc]:
    """The posts as ``actor`` reads them: AS2 documents with their :func:`reader_view`, the
    people they name and the views loaded in one query each, whatever the number of posts. A
    post whose author has no profile left is left out. The caller decided who sees what."""
    if not contexts:
        return []
    tenant = actor.tenant_id
    users = await get_users(conn, tenant, people_of(*contexts))
    views = await store.reader_views(conn, tenant, [ctx.post.id for ctx in contexts], actor.id)
    return [
        document(reader_view(render(ctx, users), views.get(ctx.post.id, NO_VIEW)))
        for ctx in contexts
        if ctx.post.author_id in users
    ]


async def read_by(conn: Connection, actor: User, obj: Doc) -> Doc:
    """A post's object just rendered (an edit's, an accept's) as ``actor`` reads it: the
    document with its :func:`reader_view` (one query)."""
    views = await store.reader_views(conn, actor.tenant_id, [obj["id"]], actor.id)
    return document(reader_view(obj, views.get(obj["id"], NO_VIEW)))


def reader_view(obj: Doc, view: ReaderView) -> Doc:
    """A post's object as one reader sees it (docs/architecture.md §16): ``reactions`` (count
    per kind), ``my_reactions``, ``replies_count`` and ``bookmarked``; a question's
    ``acceptedAnswer`` only while that answer is live; an answer says whether it is the
    ``accepted`` one. These are the reader's, never part of an activity."""
    shown = {
        **obj,
        "reactions": view.reactions,
        "my_reactions": list(view.mine),
        "replies_count": view.replies,
        "bookmarked": view.bookmarked,
    }
    if obj.get("kind") == PostKind.QUESTION.value:
        shown["acceptedAnswer"] = view.accepted_answer_id
    elif obj.get("kind") == PostKind.ANSWER.value:
        shown["accepted"] = view.accepted
    return shown


def about_post(
    type_: str, actor: User, post: Post, obj: Doc | str, group_of: Group | None, **extra: Any
) -> CanonicalActivity:
    """An activity on ``post`` addressed like it: the post's visibility and addressees, its
    group as the target, its thread as the context (``extra`` may override or add members)."""
    extra.setdefault("visibility", post.visibility.value)
    extra.setdefault("to", [user_iri(post.tenant_id, uid) for uid in post.to_ids] or None)
    extra.setdefault("target", group(group_of) if group_of else None)
    return activity(type_, actor=actor, obj=obj, context=post.thread_id, **extra)


def with_members(value: CanonicalActivity, **members: Any) -> CanonicalActivity:
    """``value`` with some members replaced."""
    return value.with_members(members)


def document(obj: Doc) -> Doc:
    """An AS2 object as an HTTP response carries it (with its context, no nulls, text dates)."""
    body: Doc = plain(obj)
    return {"@context": CANOPY_CONTEXT, **body}


def plain(value: Any) -> Any:
    """JSON-ready: datetimes as ISO 8601, ``None`` members dropped at every depth."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
