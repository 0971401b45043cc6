"""Upstream events (docs/architecture.md §4): AS2 activities other systems publish on
``canopy.upstream.v1``, applied to the write model like an HTTP write.

Supported: Create/Update/Delete of a Person (HR joiners, changes, leavers; the actor is a bot
the tenant provisions for the HR system; ``email`` and ``roles`` as Canopy terms, a Person
without ``roles`` keeps the ones it has; ``active: false`` deactivates a leaver, who keeps
their knowledge, ``active: true`` reactivates them, a Person without it keeps its standing;
a Delete erases, GDPR), Join/Leave of a Group (the actor is the person),
Create of a Note or Article by a bot (``kind: announcement`` for announcements), Create/
Update/Delete of a Task or Event (``to`` names the assignees, ``endTime`` is the due time,
``status`` open | completed | cancelled, kept by an Update that does not say it), and
Add of a Document, Link or other object into a group. Anything else is refused with a reason
and dead-lettered by the consumer; the same upstream ``id`` twice is a no-op (the inbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import InvalidInput
from canopy_common.events import AS2Object, StrictActivity, ref_id, ref_ids
from canopy_common.iris import user_id_of
from canopy_ingestion.domain.activities import activities_from
from canopy_ingestion.domain.audit import provisioning_entries
from canopy_ingestion.domain.model import User, UserKind
from canopy_ingestion.domain.text import parse_mentions
from canopy_ingestion.domain.upstream import (
    POST_TYPES,
    SCHEDULED_TYPES,
    UPSTREAM_SOURCE,
    UnknownActor,
    UnknownTenant,
    UnsupportedActivity,
    is_person_ref,
    optional_text,
    optional_texts,
    primary,
    required,
    upstream_object_id,
)
from canopy_ingestion.handlers.groups import (
    EndMembership,
    SetMembership,
    handle_end_membership,
    handle_set_membership,
)
from canopy_ingestion.handlers.people import (
    EraseUser,
    HandleTaken,
    ProvisionUser,
    check_manager,
    handle_erase_user,
    planned_profile,
    provisioned,
    validate_user_id,
)
from canopy_ingestion.upstream_metrics import upstream_sources
from canopy_ingestion.upstream_posts import apply_add, apply_note, apply_scheduled
from canopy_ingestion.upstream_work import UpstreamWork, Wants

__all__ = ["UnknownActor", "UnknownTenant", "UnsupportedActivity", "apply_one", "apply_upstream"]


async def apply_one(conn: Connection, incoming: StrictActivity) -> None:
    """Apply one upstream activity in the caller's transaction (the inbox's effect)."""
    work = UpstreamWork(conn)
    with work.collecting():
        await work.preload(wants_of([incoming]))
        await apply_upstream(work, incoming)
    await work.flush()
    # Counted before the commit: a record whose commit then fails may count twice.
    upstream_sources().count([incoming])


def wants_of(activities: Iterable[StrictActivity]) -> Wants:
    """What applying ``activities`` reads, to preload: tenants and actors; the objects,
    assignees and groups of tasks, events and documents; the people (by id and handle) HR
    provisions, and their managers; the groups, memberships and mentions of notes."""
    wants = Wants()
    for incoming in activities:
        tenant = incoming.tenant
        wants.tenants.add(tenant)
        actor = user_id_of(ref_id(incoming.actor) or "", tenant)
        if actor is not None:
            wants.users.add((tenant, actor))
        obj = incoming.object
        kind = primary(obj.type) if isinstance(obj, AS2Object) else None
        verb = primary(incoming.type)
        target = ref_id(incoming.target)
        if kind in SCHEDULED_TYPES or (verb == "Add" and obj is not None):
            if (object_id := upstream_object_id(verb, obj)) is not None:
                wants.objects.add((tenant, object_id))
            if target is not None:
                wants.groups.add((tenant, target))
            assignees = ref_ids(incoming.to)
            if not assignees and isinstance(obj, AS2Object):
                assignees = ref_ids(obj.to)
            wants.users.update((tenant, u) for iri in assignees if (u := user_id_of(iri, tenant)))
        elif kind == "Person" and isinstance(obj, AS2Object):
            if (person := user_id_of(obj.id or "", tenant)) is not None:
                wants.users.add((tenant, person))
                wants.locks.add((tenant, person))
            if obj.preferred_username:
                wants.handles.add((tenant, obj.preferred_username.lower()))
            if obj.manager is not None and (boss := user_id_of(obj.manager, tenant)) is not None:
                wants.users.add((tenant, boss))
        elif kind in POST_TYPES and isinstance(obj, AS2Object):
            if target is not None and actor is not None:
                wants.groups.add((tenant, target))
                wants.roles.add((tenant, target, actor))
            if obj.content:  # the handles as read_content will find them, or near enough
                wants.handles.update((tenant, h.lower()) for h in parse_mentions(obj.content))
    return wants


async def apply_upstream(work: UpstreamWork, incoming: StrictActivity) -> None:
    """Apply one upstream activity to ``work`` (the caller flushes it before committing)."""
    if await work.tenant(incoming.tenant) is None:
        raise UnknownTenant(f"tenant: {incoming.tenant!r} is not provisioned")
    actor = await _actor(work, incoming)
    verb = primary(incoming.type) or ""
    obj = incoming.object
    kind = primary(obj.type) if isinstance(obj, AS2Object) else None
    # The consumer already continues the record's trace (its traceparent header).
    with activities_from(incoming.source or UPSTREAM_SOURCE):
        if kind == "Person" or (verb == "Delete" and is_person_ref(obj, incoming.tenant)):
            await _person(work, verb, actor, obj, incoming)
        elif verb in ("Join", "Leave"):
            await _membership(await work.direct(), verb, actor, obj)
        elif verb == "Create" and kind in POST_TYPES and isinstance(obj, AS2Object):
            _require_bot(actor, "a post on the upstream topic")
            await apply_note(work, actor, obj, incoming)
        elif kind in SCHEDULED_TYPES or (verb == "Delete" and kind in (None, "Tombstone")):
            await apply_scheduled(work, verb, actor, obj, incoming)
        elif verb == "Add" and obj is not None:
            await apply_add(work, actor, obj, incoming)
        else:
            raise UnsupportedActivity(
                f"type: {verb} of {kind or 'a reference'} is not supported on the upstream topic"
            )


async def _actor(work: UpstreamWork, incoming: StrictActivity) -> User:
    actor_iri = ref_id(incoming.actor) or ""
    user_id = user_id_of(actor_iri, incoming.tenant)
    user = await work.user(incoming.tenant, user_id) if user_id else None
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
    work: UpstreamWork, verb: str, actor: User, obj: Any, incoming: StrictActivity
) -> None:
    """HR: a joiner or a change (the checks and profile of ``handle_provision_user``, from
    the unit of work), or a leaver (erased on the connection)."""
    _require_bot(actor, f"{verb} of a Person")
    tenant = incoming.tenant
    person_iri = ref_id(obj) or ""
    user_id = user_id_of(person_iri, tenant)
    if user_id is None:
        raise InvalidInput(f"object.id: {person_iri!r} must be urn:canopy:{tenant}:user:<id>")
    if verb == "Delete":
        erase = EraseUser(tenant, user_id, by=actor.id)
        await handle_erase_user(erase, conn=await work.direct())
        work.forget_users(tenant)  # the people they managed changed too
        return
    if verb not in ("Create", "Update"):
        raise UnsupportedActivity(f"type: {verb} of a Person is not supported")
    assert isinstance(obj, AS2Object)
    cmd = _provision(obj, incoming, user_id=user_id, by=actor.id)
    validate_user_id(user_id)
    standing = obj.term("active")
    if standing is not None and not isinstance(standing, bool):
        raise InvalidInput("object.active: must be true or false")
    await work.lock_person(tenant, user_id)
    existing = await work.user(tenant, user_id)
    wanted = planned_profile(cmd, existing)
    if standing is not None:
        wanted = replace(wanted, active=standing)
    if existing is not None and not existing.erased and existing == wanted:
        return  # already exactly this profile: nothing to store or say
    if wanted.manager_id is not None:
        check_manager(wanted, await work.user(tenant, wanted.manager_id))
    taken = wanted.active and await work.handle_owner(tenant, wanted.handle, other_than=user_id)
    if taken:
        raise HandleTaken(wanted.handle)
    emitted, _ = provisioned(wanted, existing, by=actor.id)
    work.save_user(wanted)
    work.publish(emitted)
    work.record_audit(tenant, actor.id, provisioning_entries(existing, wanted))


def _provision(obj: AS2Object, incoming: StrictActivity, *, user_id: str, by: str) -> ProvisionUser:
    return ProvisionUser(
        tenant_id=incoming.tenant,
        user_id=user_id,
        handle=required(obj.preferred_username, "object.preferredUsername"),
        display_name=required(obj.name, "object.name"),
        kind=UserKind(str(obj.term("kind") or UserKind.EMPLOYEE.value)),
        by=by,
        title=obj.title,
        department=obj.department,
        location=obj.location_name,
        # absent: kept (people edit these themselves too)
        skills=tuple(obj.skills) if obj.skills is not None else None,
        interests=tuple(obj.interests) if obj.interests is not None else None,
        manager_id=user_id_of(obj.manager, incoming.tenant) if obj.manager else None,
        # read as they came: a malformed address or role list is refused, not ignored
        email=optional_text(obj.term("email"), "object.email"),
        roles=optional_texts(obj.term("roles"), "object.roles"),
    )


async def _membership(conn: Connection, verb: str, actor: User, obj: Any) -> None:
    group_id = required(ref_id(obj), "object")
    if verb == "Join":
        await handle_set_membership(SetMembership(group_id, actor.id), conn=conn, actor=actor)
    else:
        await handle_end_membership(EndMembership(group_id, actor.id), conn=conn, actor=actor)
