"""Commands on posts: create, edit, delete, accept an answer, read.

Each runs inside the caller's transaction: it loads what it decides on (a post with its group,
the caller's role there and follow of the author, in one query), checks the rules, changes the
state and appends the canonical activities to the outbox in that transaction. Creating a post
runs over a unit of work (:class:`~canopy_ingestion.handlers.post_work.PostWork`), so the one
handler serves an HTTP request and an upstream event alike; the others run on ``conn``.
Reactions, shares and flags are in :mod:`canopy_ingestion.handlers.reactions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from canopy_common.db import Connection
from canopy_common.errors import Forbidden, InvalidInput, NotFound
from canopy_common.events import Visibility
from canopy_common.iris import new_object_id, user_iri
from canopy_common.tracing import current_traceparent
from canopy_ingestion.adapters import audit, outbox
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.adapters.outbox import Statement
from canopy_ingestion.adapters.people import get_users
from canopy_ingestion.adapters.posts import PostContext
from canopy_ingestion.domain.activities import CanonicalActivity, post_object
from canopy_ingestion.domain.audit import AuditAction
from canopy_ingestion.domain.model import (
    AS2_TYPE,
    Group,
    MemberRole,
    Post,
    PostKind,
    User,
)
from canopy_ingestion.domain.permissions import (
    ADMIN_ROLES,
    can_post_in_group,
    can_see_group,
    check_announcement,
    check_not_archived,
)
from canopy_ingestion.domain.visibility import Audience, check_audience, default_visibility
from canopy_ingestion.handlers.content import (
    apply_policy,
    clean_name,
    mentioned,
    policy_flag,
    read_content,
)
from canopy_ingestion.handlers.post_views import (
    Doc,
    about_post,
    people_of,
    read_by,
    render,
    render_for,
    visible,
    visible_post,
    with_members,
)
from canopy_ingestion.handlers.post_work import ConnectionWork, PostWork


@dataclass(frozen=True)
class NewPost:
    content: str
    kind: PostKind = PostKind.NOTE
    name: str | None = None
    group_id: str | None = None
    visibility: Visibility | None = None
    to: tuple[str, ...] = ()
    in_reply_to: str | None = None


@dataclass(frozen=True)
class PostEdit:
    """What a PATCH gives; ``fields`` names the members present (``name: null`` clears it)."""

    fields: frozenset[str]
    content: str | None = None
    name: str | None = None
    visibility: Visibility | None = None
    to: tuple[str, ...] = ()


async def create_post(
    new: NewPost, *, work: PostWork, actor: User, tenant_admin: bool = False
) -> Doc:
    """Post into the tenant, a group or a thread; the new post as an AS2 object.

    Every check comes first (the actor may post there — an archived group takes nothing, an
    announcement only from its admins, or tenant-wide from a tenant admin (``tenant_admin``:
    the token's role) — the audience, the text's limits, the content policy), then the post
    and its activities are recorded in ``work``: a post refused changed nothing. The caller
    flushes ``work`` in the transaction it owns. ``actor`` is an active person of the tenant:
    the caller resolved it (from the token, or from an upstream document).
    """
    tenant_id = actor.tenant_id
    content, handles, hashtags = read_content(new.content)
    parent = None
    if new.in_reply_to is not None:
        parent = visible(actor, new.in_reply_to, await work.live_post(actor, new.in_reply_to))
    if new.kind is PostKind.ANSWER and (
        parent is None or parent.post.kind is not PostKind.QUESTION
    ):
        raise InvalidInput(
            "an answer replies to a question: set in_reply_to to the question's id",
            extra={"field": "in_reply_to"},
        )
    group_of, role = await _target_group(work, actor, new.group_id, parent)
    if actor.is_guest and role is None:
        raise Forbidden("guests post only in groups they belong to")
    if group_of is not None and not can_post_in_group(actor, group_of, role):
        raise Forbidden(f"you may not post in group {group_of.id!r}")
    if group_of is not None:
        check_not_archived(group_of, "posts or replies")
    if new.kind is PostKind.ANNOUNCEMENT:
        check_announcement(actor, group_of, role, tenant_admin=tenant_admin)
    visibility, to_ids, people = await _audience(work, actor, new, group_of, parent)
    now, post_id = datetime.now(UTC), new_object_id()
    mentions = await mentioned(work, tenant_id, handles)
    post = Post(
        tenant_id=tenant_id,
        id=post_id,
        author_id=actor.id,
        kind=new.kind,
        as2_type=AS2_TYPE[new.kind],
        content=content,
        visibility=visibility,
        thread_id=parent.post.thread_id if parent else post_id,
        published=now,
        updated=now,
        group_id=group_of.id if group_of else None,
        name=clean_name(new.name),
        to_ids=to_ids,
        in_reply_to=parent.post.id if parent else None,
        mentions=tuple(user.id for user in mentions),
        hashtags=tuple(hashtags),
    )
    addressed = [people[uid] for uid in to_ids]
    flagged = await apply_policy(work, post, group_of, [*addressed, *mentions])
    reply_author = people.get(parent.post.author_id) if parent else None
    obj = post_object(
        post, author=actor, mentioned=mentions, group_of=group_of, reply_author=reply_author
    )
    emitted, flags = _activities("Create", actor, post, obj, group_of, flagged)
    work.add_post(post, *flags)
    work.publish(*emitted)
    return obj


async def edit_post(post_id: str, edit: PostEdit, *, conn: Connection, actor: User) -> Reply:
    """The author edits content, title or audience; mentions, hashtags and the policy run
    again. An edit that changes nothing answers the post and publishes nothing."""
    ctx = await visible_post(conn, actor, post_id, for_update=True)
    work = ConnectionWork(conn)  # its reads; the edit writes on the connection itself
    old, given = ctx.post, edit.fields
    if old.author_id != actor.id:
        raise Forbidden("only the author may edit a post")
    if "content" in given and edit.content is None:
        raise InvalidInput("content cannot be removed", extra={"field": "content"})
    content, handles, hashtags = read_content(old.content if edit.content is None else edit.content)
    visibility, to_ids = old.visibility, old.to_ids
    if {"visibility", "to"} & given:
        if old.in_reply_to is not None:
            raise InvalidInput("a reply keeps its thread's audience", extra={"field": "visibility"})
        visibility = edit.visibility or old.visibility
        if "to" in given:
            to_ids = _distinct(edit.to, drop=actor.id)
        elif visibility is not Visibility.DIRECT:
            to_ids = ()
        check_audience(actor, Audience(ctx.group, visibility, to_ids))
    people = await get_users(conn, actor.tenant_id, [*to_ids, *people_of(ctx)])
    if "to" in given:
        require_active(to_ids, people)
    mentions = await mentioned(work, actor.tenant_id, handles)
    post = dataclasses.replace(
        old,
        content=content,
        name=clean_name(edit.name) if "name" in given else old.name,
        visibility=visibility,
        to_ids=to_ids,
        mentions=tuple(user.id for user in mentions),
        hashtags=tuple(hashtags),
    )
    if post == old:
        return Reply(200, await read_by(conn, actor, render(ctx, people)))
    post = dataclasses.replace(post, updated=datetime.now(UTC))
    addressed = [people[uid] for uid in to_ids if uid in people]
    flagged = await apply_policy(work, post, ctx.group, [*addressed, *mentions], before=old)
    obj = render(dataclasses.replace(ctx, post=post), {**people, **{u.id: u for u in mentions}})
    emitted, flags = _activities("Update", actor, post, obj, ctx.group, flagged)
    await outbox.append_after(conn, [store.update_post_statement(post), *flags], *emitted)
    return Reply(200, await read_by(conn, actor, obj))


async def delete_post(post_id: str, *, conn: Connection, actor: User, moderator: bool) -> None:
    """Soft-delete a post (its author, an admin of its group, or a moderator) and publish a
    Delete of its Tombstone."""
    ctx = await visible_post(conn, actor, post_id, for_update=True, moderator=moderator)
    post = ctx.post
    if not (post.author_id == actor.id or ctx.viewer_role in ADMIN_ROLES or moderator):
        raise Forbidden("only the author, an admin of its group or a moderator may delete a post")
    now = datetime.now(UTC)
    await store.mark_deleted(conn, post.tenant_id, post.id, now)
    tombstone: Doc = {
        "type": "Tombstone",
        "id": post.id,
        "formerType": post.as2_type,
        "kind": post.kind.value,
        "deleted": now,
        "attributedTo": user_iri(post.tenant_id, post.author_id),
        "context": post.thread_id,
        "inReplyTo": post.in_reply_to,
    }
    await outbox.append(conn, about_post("Delete", actor, post, tombstone, ctx.group))
    if post.author_id != actor.id:  # an admin deletion: audited (docs/architecture.md §14)
        await audit.record(
            conn,
            tenant=post.tenant_id,
            actor=actor.id,
            action=AuditAction.POST_DELETE,
            target=post.id,
            details={
                "author": post.author_id,
                "as": "moderator" if moderator else "group_admin",
                "group": post.group_id,
            },
        )


async def accept_answer(
    question_id: str, answer_id: str, *, conn: Connection, actor: User
) -> Reply:
    """The question's author accepts one of its answers (Accept: object the answer, target
    the question); accepting the accepted answer again changes nothing."""
    asked = await visible_post(conn, actor, question_id, for_update=True)
    if asked.post.author_id != actor.id:
        raise Forbidden("only the question's author may accept an answer")
    if asked.post.kind is not PostKind.QUESTION:
        raise InvalidInput("only a question has an accepted answer")
    answered = await visible_post(conn, actor, answer_id)
    if answered.post.in_reply_to != asked.post.id or answered.post.kind is not PostKind.ANSWER:
        raise InvalidInput(
            f"{answer_id!r} is not an answer to this question", extra={"field": "answer_id"}
        )
    question, accepted = asked.post, asked.post.accepted_answer_id != answer_id
    if accepted:
        now = datetime.now(UTC)
        await store.set_accepted_answer(conn, question.tenant_id, question.id, answer_id, now)
        question = dataclasses.replace(question, accepted_answer_id=answer_id, updated=now)
    users = await get_users(conn, actor.tenant_id, people_of(asked, answered))
    question_obj = render(dataclasses.replace(asked, post=question), users)
    if accepted:
        accept = about_post("Accept", actor, question, render(answered, users), asked.group)
        await outbox.append(conn, with_members(accept, target=question_obj))
    return Reply(200, await read_by(conn, actor, question_obj))


async def read_post(post_id: str, *, conn: Connection, actor: User, moderator: bool) -> Doc:
    """The post as AS2, as the caller reads it (:func:`render_for`), when they may see it
    (moderators see every post), else 404."""
    ctx = await visible_post(conn, actor, post_id, moderator=moderator)
    for doc in await render_for(conn, actor, [ctx]):
        return doc
    raise NotFound(f"no post {post_id!r}")  # no profile left of its author


# --- helpers ------------------------------------------------------------------------------------


async def _target_group(
    work: PostWork, actor: User, group_id: str | None, parent: PostContext | None
) -> tuple[Group | None, MemberRole | None]:
    """The group a new post goes into, and the author's role there: a reply's is its
    thread's; a group the author cannot see answers 404."""
    if parent is not None:
        if group_id is not None and group_id != parent.post.group_id:
            raise InvalidInput(
                "a reply is posted where its thread is; leave group_id out",
                extra={"field": "group_id"},
            )
        return parent.group, parent.viewer_role
    if group_id is None:
        return None, None
    found = await work.group_with_role(actor.tenant_id, group_id, actor.id)
    if found is None or not can_see_group(actor, *found):
        raise NotFound(f"no group {group_id!r}")
    return found


async def _audience(
    work: PostWork,
    actor: User,
    new: NewPost,
    group_of: Group | None,
    parent: PostContext | None,
) -> tuple[Visibility, tuple[str, ...], dict[str, User]]:
    """A new post's visibility and addressees, checked, and the people they (and the author
    of the post it replies to) are. A reply has its thread's audience: a direct reply goes to
    everyone in the conversation, plus whom it adds."""
    to_ids = _distinct(new.to, drop=actor.id)
    inherited: tuple[str, ...] = ()
    named: list[str] = []
    if parent is None:
        visibility = new.visibility or default_visibility(group=group_of, to_ids=to_ids)
    else:
        visibility, named = parent.post.visibility, [parent.post.author_id]
        if new.visibility not in (None, visibility):
            raise InvalidInput(
                f"a reply has the visibility of its thread ({visibility})",
                extra={"field": "visibility"},
            )
        if visibility is Visibility.DIRECT:
            inherited = _distinct((*parent.post.to_ids, parent.post.author_id), drop=actor.id)
    wanted = [*to_ids, *inherited, *named]
    people = await work.users(actor.tenant_id, wanted)
    require_active(to_ids, people)
    everyone = _distinct((*inherited, *to_ids))
    to_ids = tuple(uid for uid in everyone if uid in people and people[uid].active)
    check_audience(actor, Audience(group_of, visibility, to_ids))
    return visibility, to_ids, people


def _activities(
    type_: str,
    actor: User,
    post: Post,
    obj: Doc,
    group_of: Group | None,
    flagged: list[str],
) -> tuple[list[CanonicalActivity], list[Statement]]:
    """The Create or Update of ``post``, then the policy's Flag when it matched, and the
    INSERT recording that flag."""
    # A Create is published when its post is: feeds order the post by that very time.
    when = {"published": post.published} if type_ == "Create" else {}
    traceparent = current_traceparent()  # an upstream event's trace goes on with its post
    emitted = [about_post(type_, actor, post, obj, group_of, traceparent=traceparent, **when)]
    if not flagged:
        return emitted, []
    flag, record = policy_flag(actor, post, obj, flagged)
    return [*emitted, flag], [record]


def require_active(user_ids: Iterable[str], people: Mapping[str, User]) -> None:
    """Refuse addressees that are not active people of the tenant (``people``: those found)."""
    unknown = [uid for uid in user_ids if uid not in people or not people[uid].active]
    if unknown:
        raise InvalidInput(
            f"not active people of this tenant: {', '.join(unknown)}",
            extra={"field": "to", "unknown": unknown},
        )


def _distinct(ids: Iterable[str], *, drop: str | None = None) -> tuple[str, ...]:
    return tuple(uid for uid in dict.fromkeys(ids) if uid != drop)
