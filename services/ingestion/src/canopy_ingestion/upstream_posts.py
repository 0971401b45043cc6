"""What upstream systems post: tasks and events (Create, Update, Delete), documents and links
added to a group (Add), announcements and other notes by a bot (Create of a Note).

Each function makes every check first and only then hands the new state and its activity to
the unit of work (:class:`~canopy_ingestion.upstream_work.UpstreamWork`): an event refused
by a check changed nothing, so a batch skips it and goes on. A note is created by the handler
of an HTTP post (:func:`~canopy_ingestion.handlers.posts.create_post`) over that unit of work:
the same checks, the same content policy (refused, or a Flag raised, as over HTTP).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from canopy_common.errors import InvalidInput, NotFound
from canopy_common.events import AS2Object, StrictActivity, Visibility, ref_id, ref_ids
from canopy_common.iris import user_id_of, user_iri
from canopy_common.tracing import current_traceparent
from canopy_ingestion.domain.activities import CanonicalActivity, activity, group, post_object
from canopy_ingestion.domain.model import Group, Post, PostKind, User
from canopy_ingestion.domain.permissions import check_not_archived
from canopy_ingestion.domain.upstream import (
    LINK_TYPES,
    POST_TYPES,
    SCHEDULED_TYPES,
    UPSTREAM_SOURCE,
    UnsupportedActivity,
    primary,
    required,
    task_status,
    upserted,
    upstream_object_id,
)
from canopy_ingestion.handlers.posts import NewPost, create_post, require_active
from canopy_ingestion.upstream_work import UpstreamWork


async def apply_scheduled(
    work: UpstreamWork, verb: str, actor: User, obj: Any, incoming: StrictActivity
) -> None:
    """Create, Update (reschedule, complete, reassign) or Delete a task or an event."""
    tenant = incoming.tenant
    object_id = required(ref_id(obj), "object.id")
    existing = await work.upstream_object(tenant, object_id)
    if verb == "Delete":
        if existing is None or existing.deleted:
            raise NotFound(f"object.id: no task or event {object_id!r} to delete")
        tombstone = {"type": "Tombstone", "id": object_id, "formerType": existing.as2_type}
        work.save_object(dataclasses.replace(existing, deleted=True))
        work.publish(_emit("Delete", actor, tombstone, existing))
        return
    if verb not in ("Create", "Update"):
        raise UnsupportedActivity(f"type: {verb} of a {obj.type} is not supported")
    assert isinstance(obj, AS2Object)
    assignees = ref_ids(incoming.to) or ref_ids(obj.to)
    ids = [user_id_of(iri, tenant) for iri in assignees]
    people = await work.users(tenant, [uid for uid in ids if uid])
    require_active([uid or iri for iri, uid in zip(assignees, ids, strict=True)], people)
    target = await _group_of(work, incoming)
    now = datetime.now(UTC)
    post = Post(
        tenant_id=tenant,
        id=object_id,
        author_id=actor.id,
        kind=SCHEDULED_TYPES[primary(obj.type) or "Task"],
        as2_type=primary(obj.type) or "Task",
        name=obj.name,
        content=obj.content or "",
        visibility=Visibility.GROUP if target else Visibility.DIRECT,
        thread_id=object_id,
        published=existing.published if existing else now,
        updated=now,
        group_id=target.id if target else None,
        to_ids=tuple(uid for uid in ids if uid),
        url=ref_id(obj.url),
        start_time=obj.start_time,
        end_time=obj.end_time,
        status=task_status(obj.term("status"), existing),
        source=incoming.source or UPSTREAM_SOURCE,
    )
    emitted_verb = "Update" if existing is not None and not existing.deleted else "Create"
    emitted = _emit(emitted_verb, actor, post_object(post, author=actor, group_of=target), post)
    work.save_object(upserted(existing, post))
    work.publish(emitted)


async def apply_add(work: UpstreamWork, actor: User, obj: Any, incoming: StrictActivity) -> None:
    """Add a document or a link into a group."""
    target = await _group_of(work, incoming)
    if target is None:
        raise InvalidInput("target: an Add names the group it adds to")
    check_not_archived(target, "documents or links")
    kind_name = primary(obj.type) if isinstance(obj, AS2Object) else "Link"
    url = ref_id(obj.url) if isinstance(obj, AS2Object) else ref_id(obj)
    object_id = required(upstream_object_id("Add", obj), "object.id")
    existing = await work.upstream_object(incoming.tenant, object_id)
    now = datetime.now(UTC)
    post = Post(
        tenant_id=incoming.tenant,
        id=object_id,
        author_id=actor.id,
        kind=PostKind.LINK if kind_name in LINK_TYPES else PostKind.DOCUMENT,
        as2_type=kind_name or "Document",
        name=obj.name if isinstance(obj, AS2Object) else None,
        content=(obj.content or obj.summary or "") if isinstance(obj, AS2Object) else "",
        visibility=Visibility.GROUP,
        thread_id=object_id,
        published=now,
        updated=now,
        group_id=target.id,
        url=url,
        source=incoming.source or UPSTREAM_SOURCE,
    )
    added = activity(
        "Add",
        actor=actor,
        obj=post_object(post, author=actor),
        target=group(target),
        visibility=Visibility.GROUP.value,
        traceparent=current_traceparent(),
    )
    work.save_object(upserted(existing, post))
    work.publish(added)


async def apply_note(
    work: UpstreamWork, actor: User, obj: AS2Object, incoming: StrictActivity
) -> None:
    """A bot's note, article, question or announcement, into a group or the tenant: the
    handler of an HTTP post (:func:`~canopy_ingestion.handlers.posts.create_post`), over the
    unit of work."""
    kind = POST_TYPES[primary(obj.type) or "Note"]
    if obj.kind == PostKind.ANNOUNCEMENT.value:
        kind = PostKind.ANNOUNCEMENT
    new = NewPost(
        content=required(obj.content, "object.content"),
        kind=kind,
        name=obj.name,
        group_id=ref_id(incoming.target),
        visibility=incoming.visibility or obj.visibility,
    )
    await create_post(new, work=work, actor=actor)


async def _group_of(work: UpstreamWork, incoming: StrictActivity) -> Group | None:
    group_id = ref_id(incoming.target)
    if group_id is None:
        return None
    found = await work.group(incoming.tenant, group_id)
    if found is None:
        raise NotFound(f"target: no group {group_id!r} in tenant {incoming.tenant!r}")
    return found


def _emit(verb: str, actor: User, obj: dict[str, Any], post: Post) -> CanonicalActivity:
    return activity(
        verb,
        actor=actor,
        obj=obj,
        visibility=post.visibility.value,
        to=[user_iri(post.tenant_id, uid) for uid in post.to_ids] or None,
        traceparent=current_traceparent(),
    )
