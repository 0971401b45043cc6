"""Leavers keep their knowledge (docs/architecture.md §16): a tenant admin (or the HR system,
upstream) deactivates a person who leaves, and may reactivate them.

A deactivated person keeps their profile, posts, answers and relations; they may not act
(every service reads their projected ``active = false`` as inactive, §8), are told nothing,
and leave people search and discovery. Their posts stay readable and in feeds, their Person
saying ``active: false``: a former colleague. Reactivation restores all of it. GDPR erasure
is the separate ``DELETE`` (:func:`canopy_ingestion.handlers.people.handle_erase_user`) and
erases a deactivated person alike; an erased person is never reactivated.

Both publish one ``Update`` of the Person saying ``active`` (actor and object the person, so
it is ordered with their other activities), audited as ``user.deactivate`` or
``user.reactivate``; asking for the standing a person already has changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from canopy_common.db import Connection
from canopy_common.errors import Conflict, NotFound
from canopy_ingestion.adapters import audit, outbox, people
from canopy_ingestion.domain.audit import provisioning_entries
from canopy_ingestion.domain.model import User
from canopy_ingestion.handlers.people import HandleTaken, provisioned


@dataclass(frozen=True)
class SetStanding:
    tenant_id: str
    user_id: str
    active: bool  # False: deactivate; True: reactivate
    by: str  # the tenant admin's user id (audited, attributedTo)


class ErasedPerson(Conflict):
    def __init__(self, user_id: str) -> None:
        super().__init__(
            f"person {user_id!r} was erased (GDPR) and cannot be reactivated; "
            f"PUT /v1/users/{user_id} provisions them anew"
        )


async def handle_set_standing(cmd: SetStanding, *, conn: Connection) -> User:
    """Deactivate or reactivate a person; returns them as they now are.

    Raises :class:`NotFound` for an unknown person (and for deactivating an erased one, as
    erasing them again is), :class:`ErasedPerson` (409) for reactivating an erased one and
    :class:`HandleTaken` (409) when someone took a reactivated person's handle meanwhile
    (handles are unique among active people: a new handle first, with ``PUT``).
    """
    await people.lock_person(conn, cmd.tenant_id, cmd.user_id)
    existing = await people.get_user(conn, cmd.tenant_id, cmd.user_id)
    if existing is None or (existing.erased and not cmd.active):
        raise NotFound(f"no person {cmd.user_id!r} in this tenant")
    if existing.erased:
        raise ErasedPerson(cmd.user_id)
    if existing.active == cmd.active:
        return existing  # already so: nothing to store or say
    if cmd.active and await people.active_handle_owner(
        conn, cmd.tenant_id, existing.handle, other_than=cmd.user_id
    ):
        raise HandleTaken(existing.handle)
    try:
        changed = await people.set_active(conn, cmd.tenant_id, cmd.user_id, cmd.active)
    except asyncpg.UniqueViolationError:  # the handle was taken meanwhile
        raise HandleTaken(existing.handle) from None
    emitted, _ = provisioned(changed, existing, by=cmd.by)
    await outbox.append(conn, emitted)
    await audit.record_planned(
        conn, tenant=cmd.tenant_id, actor=cmd.by, entries=provisioning_entries(existing, changed)
    )
    return changed
