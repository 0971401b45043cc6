"""Commands on tenants and people: provisioning, erasure, profiles and people search.

Activities (all ``visibility: public``: every person of the tenant, guests too, may see that
someone joined, changed or left; fan-out and notifications decide what to show):

- ``Create`` (a new or re-provisioned person) / ``Update`` (a changed profile): actor and
  object are the person, so the record is keyed by them and their activities stay in order;
  ``attributedTo`` names who provisioned them (a tenant admin, who need not be a person).
  A deactivated person's Person says ``active: false``; the Update that deactivates or
  reactivates them says ``active`` either way (:mod:`canopy_ingestion.handlers.leavers`).
- ``Delete`` (GDPR erasure): actor is the erased person (already anonymised), object a
  ``Tombstone`` with ``formerType: Person``. Every service drops or anonymises what it holds
  about them, including their relations: no separate Leave or Undo is emitted for those.
  People whose manager they were get an ``Update`` of their own Person.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import asyncpg

from canopy_common import cursors
from canopy_common.auth import Role
from canopy_common.db import Connection
from canopy_common.errors import Conflict, InvalidInput, NotFound
from canopy_common.events import Visibility
from canopy_common.iris import user_iri
from canopy_common.tracing import current_traceparent
from canopy_ingestion.adapters import audit, exports, outbox, people
from canopy_ingestion.domain.activities import CanonicalActivity, activity, person
from canopy_ingestion.domain.audit import AuditAction, platform_actor, provisioning_entries
from canopy_ingestion.domain.model import Tenant, User, UserKind
from canopy_ingestion.domain.permissions import can_see_person
from canopy_ingestion.domain.text import (
    InvalidText,
    clean_line,
    forbidden_character,
    validate_email,
    validate_handle,
)

NAME_MAX_LENGTH = 200  # display names, titles, departments, locations, tenant names
LIST_MAX_ITEMS = 50  # skills or interests per person
LIST_ITEM_MAX_LENGTH = 64
USER_ID_MAX_LENGTH = 255  # what a token's `sub` may be (canopy_common.auth)
QUERY_MAX_LENGTH = 100
# The tenant roles a person's profile may hold (notifications find moderators by them).
# Not platform_admin (no tenant grants it), nor guest and member (a person's kind says those).
ASSIGNABLE_ROLES = frozenset(role.value for role in Role) - {
    Role.PLATFORM_ADMIN.value,
    Role.GUEST.value,
    Role.MEMBER.value,
}


# --- tenants --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvisionTenant:
    tenant_id: str
    name: str
    by: str  # the platform admin's user id (audited as platform:<id>)


async def handle_provision_tenant(cmd: ProvisionTenant, *, conn: Connection) -> tuple[Tenant, bool]:
    """Create or rename a tenant; returns it and whether it was created."""
    name = clean_line(cmd.name, field="name", max_length=NAME_MAX_LENGTH)
    outcome = await people.upsert_tenant(conn, cmd.tenant_id, name)
    if outcome is not None:
        await audit.record(
            conn,
            tenant=cmd.tenant_id,
            actor=platform_actor(cmd.by),
            action=AuditAction.TENANT_CREATE if outcome else AuditAction.TENANT_RENAME,
            target=cmd.tenant_id,
            details={"name": name},
        )
    return Tenant(cmd.tenant_id, name), outcome is True


# --- provisioning and erasure ---------------------------------------------------------------


@dataclass(frozen=True)
class ProvisionUser:
    tenant_id: str
    user_id: str
    handle: str
    display_name: str
    kind: UserKind
    by: str  # the user id of whoever provisions (for attributedTo)
    title: str | None = None
    department: str | None = None
    # None keeps what the person has (they edit these themselves too, and an HR system that
    # knows nothing of them must not wipe them); "" or () clears them.
    location: str | None = None
    skills: tuple[str, ...] | None = None
    interests: tuple[str, ...] | None = None
    manager_id: str | None = None
    email: str | None = None
    # None keeps the roles the person has: HR systems that know nothing of Canopy roles do
    # not take a moderator's away by sending a profile; () clears them.
    roles: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Provisioned:
    user: User
    created: bool  # a new (or re-provisioned, after erasure) person
    changed: bool  # False: the profile was already exactly this, nothing emitted


async def handle_provision_user(cmd: ProvisionUser, *, conn: Connection) -> Provisioned:
    """Create or update a person's profile and emit its Create or Update.

    Raises :class:`Conflict` when the tenant is not provisioned or the handle is taken (any
    case), :class:`InvalidInput` for a bad field (an implausible e-mail address, a role not in
    :data:`ASSIGNABLE_ROLES`) or manager.
    """
    validate_user_id(cmd.user_id)
    if await people.get_tenant(conn, cmd.tenant_id) is None:
        raise Conflict(
            f"tenant {cmd.tenant_id!r} is not provisioned; a platform admin must "
            f"PUT /v1/tenants/{cmd.tenant_id} first"
        )
    _profile(cmd)  # a bad field is refused before anything is locked
    await people.lock_person(conn, cmd.tenant_id, cmd.user_id)
    existing = await people.get_user(conn, cmd.tenant_id, cmd.user_id)
    wanted = planned_profile(cmd, existing)
    if existing is not None and not existing.erased and existing == wanted:
        return Provisioned(existing, created=False, changed=False)
    if wanted.manager_id is not None:
        check_manager(wanted, await people.get_user(conn, cmd.tenant_id, wanted.manager_id))
    # Handles are unique among active people: a deactivated person holds none.
    taken_by = wanted.active and await people.active_handle_owner(
        conn, cmd.tenant_id, wanted.handle, other_than=cmd.user_id
    )
    if taken_by:
        raise HandleTaken(wanted.handle)
    try:
        await people.save_user(conn, wanted)
    except asyncpg.UniqueViolationError:  # another person took the handle meanwhile
        raise HandleTaken(wanted.handle) from None
    emitted, created = provisioned(wanted, existing, by=cmd.by)
    await outbox.append(conn, emitted)
    await audit.record_planned(
        conn, tenant=cmd.tenant_id, actor=cmd.by, entries=provisioning_entries(existing, wanted)
    )
    return Provisioned(wanted, created=created, changed=True)


class HandleTaken(Conflict):
    def __init__(self, handle: str) -> None:
        super().__init__(f"the handle @{handle} is taken in this tenant")


def planned_profile(cmd: ProvisionUser, existing: User | None) -> User:
    """The profile ``cmd`` asks for (checked), over what the person has now: what the person
    writes themselves (summary, pronouns) is kept, and so is what ``cmd`` leaves out of
    location, skills and interests (erasure cleared them all); a deactivated person stays
    deactivated (reactivation is its own act)."""
    wanted = _profile(cmd)
    if cmd.roles is None:
        wanted = replace(wanted, roles=_kept_roles(existing, wanted))
    if existing is not None:
        wanted = replace(
            wanted,
            summary=existing.summary,
            pronouns=existing.pronouns,
            location=existing.location if cmd.location is None else wanted.location,
            skills=existing.skills if cmd.skills is None else wanted.skills,
            interests=existing.interests if cmd.interests is None else wanted.interests,
        )
    if existing is not None and existing.is_former:
        wanted = replace(wanted, active=False)
    return wanted


def check_manager(wanted: User, manager: User | None) -> None:
    """A manager must be an active person of the tenant."""
    if manager is None or not manager.active:
        raise InvalidInput(
            f"manager_id: {wanted.manager_id!r} is not an active person of this tenant"
        )


def provisioned(wanted: User, existing: User | None, *, by: str) -> tuple[CanonicalActivity, bool]:
    """The Create (a new or re-provisioned person) or Update of a stored profile, and which.
    An Update that deactivates or reactivates the person says ``active`` either way."""
    if existing is None or existing.erased:
        return profile_activity("Create", wanted, by=by), True
    standing = existing.active != wanted.active
    return profile_activity("Update", wanted, by=by, standing=standing), False


@dataclass(frozen=True)
class EraseUser:
    tenant_id: str
    user_id: str
    by: str


async def handle_erase_user(cmd: EraseUser, *, conn: Connection) -> User:
    """Deactivate and anonymise a person, drop their relations, emit the Delete (GDPR); a
    deactivated person is erased alike.

    Raises :class:`NotFound` for an unknown or already erased person.
    """
    await people.lock_person(conn, cmd.tenant_id, cmd.user_id)
    existing = await people.get_user(conn, cmd.tenant_id, cmd.user_id)
    if existing is None or existing.erased:
        raise NotFound(f"no person {cmd.user_id!r} in this tenant")
    await people.remove_relations(conn, cmd.tenant_id, cmd.user_id)
    await exports.forget_subject(conn, cmd.tenant_id, cmd.user_id)  # copies of their data
    erased = await people.erase_user(conn, cmd.tenant_id, cmd.user_id)
    reports = await people.clear_manager(conn, cmd.tenant_id, cmd.user_id)
    tombstone = {
        "type": "Tombstone",
        "id": user_iri(cmd.tenant_id, cmd.user_id),
        "formerType": "Person",
        "deleted": datetime.now(UTC),
    }
    delete = activity(
        "Delete",
        actor=erased,
        obj=tombstone,
        visibility=Visibility.PUBLIC,
        traceparent=current_traceparent(),
        attributedTo=user_iri(cmd.tenant_id, cmd.by),
    )
    updates = [profile_activity("Update", report, by=cmd.by) for report in reports]
    await outbox.append(conn, delete, *updates)
    await audit.record(
        conn,
        tenant=cmd.tenant_id,
        actor=cmd.by,
        action=AuditAction.USER_ERASE,
        target=cmd.user_id,
        details={"reports_unassigned": len(reports)},
    )
    return erased


def profile_activity(
    type_: str, user: User, *, by: str, standing: bool = False
) -> CanonicalActivity:
    """The ``Create`` or ``Update`` of a person's stored profile, attributed to ``by``
    (``standing``: it says ``active`` either way)."""
    return activity(
        type_,
        actor=user,
        obj=person(user, standing=standing),
        visibility=Visibility.PUBLIC,
        traceparent=current_traceparent(),
        attributedTo=user_iri(user.tenant_id, by),
    )


def validate_user_id(user_id: str) -> None:
    """A user id is what a token's ``sub`` may be: no whitespace or control characters."""
    if not 0 < len(user_id) <= USER_ID_MAX_LENGTH:
        raise InvalidText("user_id", f"must be 1 to {USER_ID_MAX_LENGTH} characters")
    if (bad := forbidden_character(user_id)) is not None:
        raise InvalidText("user_id", f"must not contain {bad}")
    if any(char.isspace() for char in user_id):
        raise InvalidText("user_id", "must not contain whitespace")


def _profile(cmd: ProvisionUser) -> User:
    manager_id = cmd.manager_id or None
    if manager_id == cmd.user_id:
        raise InvalidInput("manager_id: a person cannot be their own manager")
    return User(
        tenant_id=cmd.tenant_id,
        id=cmd.user_id,
        handle=validate_handle(cmd.handle),
        display_name=clean_line(cmd.display_name, field="display_name", max_length=NAME_MAX_LENGTH),
        kind=cmd.kind,
        title=_optional_line(cmd.title, "title"),
        department=_optional_line(cmd.department, "department"),
        location=_optional_line(cmd.location, "location"),
        skills=clean_list(cmd.skills or (), "skills"),
        interests=clean_list(cmd.interests or (), "interests"),
        manager_id=manager_id,
        email=validate_email(cmd.email) if cmd.email and cmd.email.strip() else None,
        roles=_clean_roles(cmd.roles or (), cmd.kind),
    )


def _clean_roles(values: tuple[str, ...], kind: UserKind) -> tuple[str, ...]:
    """Distinct roles, sorted (so an unchanged profile compares equal); only assignable ones,
    and none for a guest: an external partner must not receive the tenant's moderation."""
    unknown = sorted(set(values) - ASSIGNABLE_ROLES)
    if unknown:
        allowed = ", ".join(sorted(ASSIGNABLE_ROLES))
        raise InvalidText("roles", f"may hold {allowed}, not {', '.join(unknown)}")
    if values and kind is UserKind.GUEST:
        raise InvalidText("roles", "a guest holds no tenant roles")
    return tuple(sorted(set(values)))


def _kept_roles(existing: User | None, wanted: User) -> tuple[str, ...]:
    """The roles a profile given without any keeps: the person's own, unless they are new,
    were erased, or are now a guest."""
    if existing is None or existing.erased or wanted.is_guest:
        return ()
    return existing.roles


def _optional_line(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    return clean_line(value, field=name, max_length=NAME_MAX_LENGTH, min_length=0) or None


def clean_list(values: tuple[str, ...], name: str) -> tuple[str, ...]:
    """Each item cleaned; duplicates (any case) dropped, the first spelling kept."""
    if len(values) > LIST_MAX_ITEMS:
        raise InvalidText(name, f"at most {LIST_MAX_ITEMS} items")
    seen: dict[str, str] = {}
    for value in values:
        item = clean_line(value, field=name, max_length=LIST_ITEM_MAX_LENGTH)
        seen.setdefault(item.lower(), item)
    return tuple(seen.values())


# --- reads ----------------------------------------------------------------------------------


async def find_visible_person(
    conn: Connection, viewer: User, user_id: str, *, former: bool = False
) -> User:
    """The active person ``user_id`` of the viewer's tenant, if the viewer may see them (with
    ``former``, a deactivated one too: their profile, read from their posts); raises
    :class:`NotFound` otherwise (another tenant's id included)."""
    found = await people.get_user(conn, viewer.tenant_id, user_id)
    if found is not None and (found.active or (former and found.is_former)):
        shares = viewer.is_guest and found.id != viewer.id
        if can_see_person(
            viewer,
            found,
            shares_group=shares
            and await people.shares_group(conn, viewer.tenant_id, viewer.id, found.id),
            former=former,
        ):
            return found
    raise NotFound(f"no person {user_id!r} in this tenant")


@dataclass(frozen=True)
class SearchPeople:
    text: str | None = None
    skill: str | None = None
    limit: int = 20
    cursor: str | None = None
    former: bool = False  # deactivated people instead of active ones (tenant admins)


@dataclass(frozen=True)
class PeoplePage:
    people: list[User] = field(default_factory=list)
    next_cursor: str | None = None


async def handle_search_people(
    query: SearchPeople, *, conn: Connection, viewer: User
) -> PeoplePage:
    """Active people (``former``: deactivated, not erased ones) of the viewer's tenant by text
    and skill, by name; guests find only the people they share a group with (and
    themselves)."""
    found = await people.search_users(
        conn,
        viewer.tenant_id,
        text=_query_text(query.text, "q"),
        skill=_query_text(query.skill, "skill"),
        limit=query.limit + 1,
        after=decode_cursor(query.cursor) if query.cursor else None,
        guest_id=viewer.id if viewer.is_guest else None,
        former=query.former,
    )
    page = found[: query.limit]
    more = len(found) > query.limit
    return PeoplePage([user for user, _ in page], encode_cursor(page[-1][1]) if more else None)


def _query_text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    return clean_line(value, field=name, max_length=QUERY_MAX_LENGTH, min_length=0) or None


def encode_cursor(key: tuple[str, str]) -> str:
    """An opaque cursor for the page after the person with sort ``key``."""
    return cursors.encode_cursor(*key)


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The sort key in a cursor from :func:`encode_cursor`; 400 for anything else."""
    first, second = cursors.decode_cursor(cursor, (str, str))
    return first, second
