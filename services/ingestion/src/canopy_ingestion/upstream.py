"""Upstream events (ARCHITECTURE §4): AS2 activities other systems publish on
``canopy.upstream.v1``, applied to the write model like an HTTP write.

Supported: Create/Update/Delete of a Person (HR joiners, changes, leavers; the actor is a bot
the tenant provisions for the HR system; ``email`` and ``roles`` as Canopy terms, a Person
without ``roles`` keeps the ones it has), Join/Leave of a Group (the actor is the person),
Create of a Note or Article by a bot (``kind: announcement`` for announcements), Create/
Update/Delete of a Task or Event (``to`` names the assignees, ``endTime`` is the due time,
``status`` open | completed | cancelled, kept by an Update that does not say it), and
Add of a Document, Link or other object into a group. Anything else is refused with a reason
and dead-lettered by the consumer; the same upstream ``id`` twice is a no-op (the inbox).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import CanopyError, InvalidInput, NotFound
from canopy_common.events import AS2Object, StrictActivity, Visibility, ref_id, ref_ids
from canopy_common.iris import user_id_of, user_iri
from canopy_ingestion.adapters import outbox, upstream_objects
from canopy_ingestion.adapters.groups import get_group
from canopy_ingestion.adapters.people import get_tenant, get_user, get_users
from canopy_ingestion.domain.activities import activities_from, activity, group, post_object
from canopy_ingestion.domain.model import Post, PostKind, TaskStatus, User, UserKind
from canopy_ingestion.handlers.groups import (
    EndMembership,
    SetMembership,
    handle_end_membership,
    handle_set_membership,
)
from canopy_ingestion.handlers.people import (
    EraseUser,
    ProvisionUser,
    handle_erase_user,
    handle_provision_user,
)
from canopy_ingestion.handlers.posts import NewPost, create_post

UPSTREAM_SOURCE = "upstream"  # when the activity names no `source`
POST_TYPES = {"Note": PostKind.NOTE, "Article": PostKind.ARTICLE, "Question": PostKind.QUESTION}
SCHEDULED_TYPES = {"Task": PostKind.TASK, "Event": PostKind.EVENT}
LINK_TYPES = {"Link", "Page"}


class UnknownTenant(CanopyError):
    status, code = 422, "unknown-tenant"


class UnknownActor(CanopyError):
    status, code = 422, "unknown-actor"


class UnsupportedActivity(CanopyError):
    status, code = 422, "unsupported-activity"


async def apply_upstream(conn: Connection, incoming: StrictActivity) -> None:
    """Apply one upstream activity in the caller's transaction (the inbox's effect)."""
    if await get_tenant(conn, incoming.tenant) is None:
        raise UnknownTenant(f"tenant: {incoming.tenant!r} is not provisioned")
    actor = await _actor(conn, incoming)
    verb = _primary(incoming.type) or ""
    obj = incoming.object
    kind = _primary(obj.type) if isinstance(obj, AS2Object) else None
    # The consumer already continues the record's trace (its traceparent header).
    with activities_from(incoming.source or UPSTREAM_SOURCE):
        if kind == "Person" or (verb == "Delete" and _is_person_ref(obj, incoming.tenant)):
            await _person(conn, verb, actor, obj, incoming)
        elif verb in ("Join", "Leave"):
            await _membership(conn, verb, actor, obj)
        elif verb == "Create" and kind in POST_TYPES and isinstance(obj, AS2Object):
            await _post(conn, actor, obj, incoming)
        elif kind in SCHEDULED_TYPES or (verb == "Delete" and kind in (None, "Tombstone")):
            await _scheduled(conn, verb, actor, obj, incoming)
        elif verb == "Add" and obj is not None:
            await _add(conn, actor, obj, incoming)
        else:
            raise UnsupportedActivity(
                f"type: {verb} of {kind or 'a reference'} is not supported on the upstream topic"
            )


async def _actor(conn: Connection, incoming: StrictActivity) -> User:
    actor_iri = ref_id(incoming.actor) or ""
    user_id = user_id_of(actor_iri, incoming.tenant)
    user = await get_user(conn, incoming.tenant, user_id) if user_id else None
    if user is None or not user.active:
        raise UnknownActor(
            f"actor: {actor_iri!r} is not an active person or bot of tenant {incoming.tenant!r} "
            f"(expected urn:canopy:{incoming.tenant}:user:<id>)"
        )
    return user


def _require_bot(actor: User, what: str) -> None:
    if actor.kind is not UserKind.BOT:
        raise UnsupportedActivity(
            f"actor: {what} comes from a system actor (a user of kind bot), not {actor.id!r}"
        )


async def _person(
    conn: Connection, verb: str, actor: User, obj: Any, incoming: StrictActivity
) -> None:
    _require_bot(actor, f"{verb} of a Person")
    person_iri = ref_id(obj) or ""
    user_id = user_id_of(person_iri, incoming.tenant)
    if user_id is None:
        raise InvalidInput(
            f"object.id: {person_iri!r} must be urn:canopy:{incoming.tenant}:user:<id>"
        )
    if verb == "Delete":
        await handle_erase_user(EraseUser(incoming.tenant, user_id, by=actor.id), conn=conn)
        return
    if verb not in ("Create", "Update"):
        raise UnsupportedActivity(f"type: {verb} of a Person is not supported")
    assert isinstance(obj, AS2Object)
    extra = obj.model_extra or {}
    manager = extra.get("manager")
    await handle_provision_user(
        ProvisionUser(
            tenant_id=incoming.tenant,
            user_id=user_id,
            handle=_required(obj.preferred_username, "object.preferredUsername"),
            display_name=_required(obj.name, "object.name"),
            kind=UserKind(extra.get("kind", UserKind.EMPLOYEE.value)),
            by=actor.id,
            title=extra.get("title"),
            department=extra.get("department"),
            location=extra.get("location"),
            skills=tuple(extra.get("skills") or ()),
            interests=tuple(extra.get("interests") or ()),
            manager_id=user_id_of(manager, incoming.tenant) if isinstance(manager, str) else None,
            email=_optional_text(extra.get("email"), "object.email"),
            roles=_optional_texts(extra.get("roles"), "object.roles"),
        ),
        conn=conn,
    )


async def _membership(conn: Connection, verb: str, actor: User, obj: Any) -> None:
    group_id = _required(ref_id(obj), "object")
    if verb == "Join":
        await handle_set_membership(SetMembership(group_id, actor.id), conn=conn, actor=actor)
    else:
        await handle_end_membership(EndMembership(group_id, actor.id), conn=conn, actor=actor)


async def _post(conn: Connection, actor: User, obj: AS2Object, incoming: StrictActivity) -> None:
    _require_bot(actor, "a post on the upstream topic")
    extra = obj.model_extra or {}
    kind = POST_TYPES[_primary(obj.type) or "Note"]
    if extra.get("kind") == PostKind.ANNOUNCEMENT.value:
        kind = PostKind.ANNOUNCEMENT
    await create_post(
        NewPost(
            content=_required(obj.content, "object.content"),
            kind=kind,
            name=obj.name,
            group_id=ref_id(incoming.target),
            visibility=incoming.visibility or obj.visibility,
        ),
        conn=conn,
        actor=actor,
    )


async def _scheduled(
    conn: Connection, verb: str, actor: User, obj: Any, incoming: StrictActivity
) -> None:
    tenant = incoming.tenant
    object_id = _required(ref_id(obj), "object.id")
    existing = await upstream_objects.get_object(conn, tenant, object_id)
    if verb == "Delete":
        if existing is None or existing.deleted:
            raise NotFound(f"object.id: no task or event {object_id!r} to delete")
        await conn.execute(
            "UPDATE posts SET deleted_at = now() WHERE tenant_id = $1 AND id = $2",
            tenant,
            object_id,
        )
        tombstone = {"type": "Tombstone", "id": object_id, "formerType": existing.as2_type}
        await outbox.append(conn, _emit("Delete", actor, tombstone, existing))
        return
    if verb not in ("Create", "Update"):
        raise UnsupportedActivity(f"type: {verb} of a {obj.type} is not supported")
    assert isinstance(obj, AS2Object)
    assignees = ref_ids(incoming.to) or ref_ids(obj.to)
    ids = [user_id_of(iri, tenant) for iri in assignees]
    unknown = [iri for iri, uid in zip(assignees, ids, strict=True) if uid is None]
    people = await get_users(conn, tenant, [uid for uid in ids if uid])
    unknown += [uid for uid in ids if uid and (uid not in people or not people[uid].active)]
    if unknown:
        raise InvalidInput(f"to: not active people of this tenant: {unknown}")
    target = await _group_of(conn, tenant, incoming)
    now = datetime.now(UTC)
    post = Post(
        tenant_id=tenant,
        id=object_id,
        author_id=actor.id,
        kind=SCHEDULED_TYPES[_primary(obj.type) or "Task"],
        as2_type=_primary(obj.type) or "Task",
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
        status=_task_status((obj.model_extra or {}).get("status"), existing),
        source=incoming.source or UPSTREAM_SOURCE,
    )
    await upstream_objects.save_object(conn, post)
    emitted_verb = "Update" if existing is not None and not existing.deleted else "Create"
    await outbox.append(
        conn, _emit(emitted_verb, actor, post_object(post, author=actor, group_of=target), post)
    )


async def _add(conn: Connection, actor: User, obj: Any, incoming: StrictActivity) -> None:
    target = await _group_of(conn, incoming.tenant, incoming)
    if target is None:
        raise InvalidInput("target: an Add names the group it adds to")
    kind_name = _primary(obj.type) if isinstance(obj, AS2Object) else "Link"
    url = ref_id(obj.url) if isinstance(obj, AS2Object) else ref_id(obj)
    object_id = (obj.id if isinstance(obj, AS2Object) else None) or url
    object_id = _required(object_id, "object.id")
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
    await upstream_objects.save_object(conn, post)
    added = activity(
        "Add",
        actor=actor,
        obj=post_object(post, author=actor),
        target=group(target),
        visibility=Visibility.GROUP.value,
    )
    await outbox.append(conn, added)


async def _group_of(conn: Connection, tenant: str, incoming: StrictActivity) -> Any:
    group_id = ref_id(incoming.target)
    if group_id is None:
        return None
    found = await get_group(conn, tenant, group_id)
    if found is None:
        raise NotFound(f"target: no group {group_id!r} in tenant {tenant!r}")
    return found


def _emit(verb: str, actor: User, obj: dict[str, Any], post: Post) -> StrictActivity:
    return activity(
        verb,
        actor=actor,
        obj=obj,
        visibility=post.visibility.value,
        to=[user_iri(post.tenant_id, uid) for uid in post.to_ids] or None,
    )


def _task_status(value: Any, existing: Post | None) -> TaskStatus:
    """The status a task or event says; without one, what it had (a reschedule does not
    reopen a completed task), or open."""
    if value is None:
        kept = existing.status if existing is not None and not existing.deleted else None
        return kept or TaskStatus.OPEN
    if not isinstance(value, str) or value not in {status.value for status in TaskStatus}:
        allowed = " | ".join(TaskStatus)
        raise InvalidInput(f"object.status: {value!r} is not {allowed}")
    return TaskStatus(value)


def _optional_text(value: Any, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field}: must be a string")
    return value


def _optional_texts(value: Any, field: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(f"{field}: must be a list of strings")
    return tuple(value)


def _is_person_ref(obj: Any, tenant: str) -> bool:
    iri = ref_id(obj)
    return iri is not None and user_id_of(iri, tenant) is not None


def _primary(value: str | list[str] | None) -> str | None:
    return value[0] if isinstance(value, list) else value


def _required(value: str | None, field: str) -> str:
    if not value:
        raise InvalidInput(f"{field}: required")
    return value
