"""Commands on groups: create one, join, add, invite, change roles, leave, remove.

Every group activity carries the whole group as its ``target`` (also when the group is the
object), so consumers find it in one place, and takes the group's visibility: ``public`` and
``internal`` groups map to the same visibility, a ``private`` group to ``group`` (its members
only). The membership ``role`` is an activity term (owner | admin | member).

- ``Create`` {object: Group} then ``Join`` {object: Group, role: owner}, both by the creator:
  the owner's membership is an ordinary Join, so membership projections need only
  Join/Leave/Add/Remove.
- ``Join`` {actor: the member, object: Group}: someone joins by themselves.
- ``Add`` {actor: the admin, object: Person, to: [the person]}: an admin adds someone.
- ``Update`` {actor: the admin, object: Relationship {subject: Person, object: group id,
  role}, to: [the person]}: a role change.
- ``Leave`` {actor: the member, object: Group}; ``Remove`` {actor: the admin, object: Person,
  to: [the person]}.
- ``Invite`` {actor: the inviter, object: Person (the invitee), to: [the invitee]}: a pending
  invite, which lets the invitee see the group and join it by themselves (their ``Join``
  consumes it, as does being added). Inviting someone again emits nothing.
- ``Join`` {actor: the requester, object: Group, role: member, status: pending}: someone asks
  to join a group whose ``join_policy`` is ``request``; nobody is a member until an admin's
  ``Add``, which consumes the request. Asking again emits nothing. The request ends without a
  membership in ``Reject`` or ``Undo`` (see :mod:`canopy_ingestion.handlers.join_requests`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from canopy_common.activities import JOIN_PENDING
from canopy_common.db import Connection
from canopy_common.errors import Forbidden, NotFound
from canopy_common.events import Visibility
from canopy_common.iris import new_object_id, user_iri
from canopy_common.tracing import current_traceparent
from canopy_ingestion.adapters import groups, join_requests, outbox
from canopy_ingestion.domain.activities import (
    CanonicalActivity,
    activity,
    group,
    person,
)
from canopy_ingestion.domain.model import (
    Group,
    GroupInvite,
    GroupVisibility,
    JoinPolicy,
    JoinRequest,
    MemberRole,
    User,
)
from canopy_ingestion.domain.permissions import (
    MembershipChange,
    can_see_group,
    check_join_policy,
    decide_invite,
    decide_membership_delete,
    decide_membership_put,
)
from canopy_ingestion.domain.text import clean_block, clean_line
from canopy_ingestion.handlers.people import find_visible_person

GROUP_NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 2000


def activity_visibility(value: Group) -> Visibility:
    """Who sees the group's activities: as the group itself, members only for private ones."""
    return value.visibility.as2


@dataclass(frozen=True)
class CreateGroup:
    name: str
    visibility: GroupVisibility
    description: str = ""
    join_policy: JoinPolicy = JoinPolicy.OPEN


async def handle_create_group(cmd: CreateGroup, *, conn: Connection, actor: User) -> Group:
    """Create a group owned by ``actor``; guests may not create groups (403), a private group
    takes no join requests (422)."""
    if actor.is_guest:
        raise Forbidden("guests may not create groups")
    check_join_policy(cmd.visibility, cmd.join_policy)
    created = Group(
        tenant_id=actor.tenant_id,
        id=new_object_id(),
        name=clean_line(cmd.name, field="name", max_length=GROUP_NAME_MAX_LENGTH),
        visibility=cmd.visibility,
        owner_id=actor.id,
        description=clean_block(
            cmd.description, field="description", max_length=DESCRIPTION_MAX_LENGTH
        ),
        join_policy=cmd.join_policy,
    )
    await groups.insert_group(conn, created)
    create = group_activity("Create", created, actor=actor, obj=group(created))
    join = group_activity(
        "Join", created, actor=actor, obj=group(created), role=MemberRole.OWNER.value
    )
    await groups.add_member(
        conn, actor.tenant_id, created.id, actor.id, MemberRole.OWNER, activity_id=join.id
    )
    await outbox.append(conn, create, join)
    return created


@dataclass(frozen=True)
class SetMembership:
    group_id: str
    user_id: str
    role: MemberRole = MemberRole.MEMBER


@dataclass(frozen=True)
class MembershipResult:
    group: Group
    user: User
    role: MemberRole
    change: MembershipChange
    request: JoinRequest | None = None  # REQUEST, PENDING: the person's pending request


async def handle_set_membership(
    cmd: SetMembership, *, conn: Connection, actor: User
) -> MembershipResult:
    """Join, ask to join, add someone, or change their role (see
    :func:`decide_membership_put`); a new membership consumes the person's pending invite and
    join request."""
    access = await visible_group(conn, actor, cmd.group_id)
    found = access.group
    subject = await _subject(conn, actor, cmd.user_id)
    subject_role = await groups.member_role(conn, actor.tenant_id, found.id, subject.id)
    pending = await join_requests.get_request(conn, actor.tenant_id, found.id, subject.id)
    change = decide_membership_put(
        actor,
        found,
        actor_role=access.role,
        subject=subject,
        subject_role=subject_role,
        wanted=cmd.role,
        owners=await groups.count_owners(conn, actor.tenant_id, found.id),
        invited=access.invited,
        requested=pending is not None,
    )
    if change is MembershipChange.PENDING:
        return MembershipResult(found, subject, cmd.role, change, request=pending)
    if change is MembershipChange.REQUEST:
        request = await _ask_to_join(conn, actor, found)
        return MembershipResult(found, subject, cmd.role, change, request=request)
    if change in (MembershipChange.JOIN, MembershipChange.ADD):
        await groups.remove_invite(conn, actor.tenant_id, found.id, subject.id)
        await join_requests.remove_request(conn, actor.tenant_id, found.id, subject.id)
    role = cmd.role.value
    if change is MembershipChange.JOIN:
        joined = group_activity("Join", found, actor=actor, obj=group(found), role=role)
        await groups.add_member(
            conn, actor.tenant_id, found.id, subject.id, cmd.role, activity_id=joined.id
        )
        await outbox.append(conn, joined)
    elif change is MembershipChange.ADD:
        added = group_activity(
            "Add", found, actor=actor, obj=person(subject), to=[_iri(subject)], role=role
        )
        await groups.add_member(
            conn, actor.tenant_id, found.id, subject.id, cmd.role, activity_id=added.id
        )
        await outbox.append(conn, added)
    elif change is MembershipChange.ROLE:
        relationship = {
            "type": "Relationship",
            "subject": person(subject),
            "object": found.id,
            "role": role,
        }
        updated = group_activity(
            "Update", found, actor=actor, obj=relationship, to=[_iri(subject)], role=role
        )
        await groups.set_member_role(conn, actor.tenant_id, found.id, subject.id, cmd.role)
        await outbox.append(conn, updated)
    return MembershipResult(found, subject, cmd.role, change)


async def _ask_to_join(conn: Connection, actor: User, found: Group) -> JoinRequest:
    """Record ``actor``'s request to join and emit its pending ``Join``."""
    asked = group_activity(
        "Join",
        found,
        actor=actor,
        obj=group(found),
        role=MemberRole.MEMBER.value,
        status=JOIN_PENDING,
    )
    request = JoinRequest(actor.tenant_id, found.id, actor.id, asked.id, asked.published)
    await join_requests.insert_request(conn, request)
    await outbox.append(conn, asked)
    return request


@dataclass(frozen=True)
class EndMembership:
    group_id: str
    user_id: str


async def handle_end_membership(
    cmd: EndMembership, *, conn: Connection, actor: User
) -> MembershipChange:
    """Leave (oneself) or remove someone (an admin); see :func:`decide_membership_delete`."""
    access = await visible_group(conn, actor, cmd.group_id)
    found, actor_role = access.group, access.role
    try:
        subject: User | None = await _subject(conn, actor, cmd.user_id)
    except NotFound:
        subject = None
    subject_role = (
        await groups.member_role(conn, actor.tenant_id, found.id, subject.id) if subject else None
    )
    change = decide_membership_delete(
        actor,
        found,
        actor_role=actor_role,
        subject=subject,
        subject_role=subject_role,
        owners=await groups.count_owners(conn, actor.tenant_id, found.id),
    )
    assert subject is not None  # decide_membership_delete raised otherwise
    if change is MembershipChange.LEAVE:
        ended = group_activity("Leave", found, actor=actor, obj=group(found))
    else:
        ended = group_activity(
            "Remove", found, actor=actor, obj=person(subject), to=[_iri(subject)]
        )
    await groups.remove_member(conn, actor.tenant_id, found.id, subject.id)
    await outbox.append(conn, ended)
    return change


@dataclass(frozen=True)
class InviteToGroup:
    group_id: str
    user_id: str  # the invitee


@dataclass(frozen=True)
class InviteResult:
    invite: GroupInvite
    created: bool  # False: the person was invited already, nothing emitted


async def handle_invite(cmd: InviteToGroup, *, conn: Connection, actor: User) -> InviteResult:
    """Invite someone into a group and emit the ``Invite`` (see :func:`decide_invite`); an
    invite already pending is returned as it is."""
    access = await visible_group(conn, actor, cmd.group_id)
    found = access.group
    invitee = await _subject(conn, actor, cmd.user_id)
    decide_invite(
        actor,
        found,
        inviter_role=access.role,
        invitee=invitee,
        invitee_role=await groups.member_role(conn, actor.tenant_id, found.id, invitee.id),
        inviter_invited=access.invited,
    )
    pending = await groups.get_invite(conn, actor.tenant_id, found.id, invitee.id)
    if pending is not None:
        return InviteResult(pending, created=False)
    invite = group_activity("Invite", found, actor=actor, obj=person(invitee), to=[_iri(invitee)])
    stored = await groups.insert_invite(
        conn, actor.tenant_id, found.id, invitee.id, inviter_id=actor.id, activity_id=invite.id
    )
    await outbox.append(conn, invite)
    return InviteResult(stored, created=True)


@dataclass(frozen=True)
class GroupAccess:
    """A group as one person meets it: their role there, whether they hold an invite."""

    group: Group
    role: MemberRole | None
    invited: bool


async def visible_group(
    conn: Connection, actor: User, group_id: str, *, lock: bool = True
) -> GroupAccess:
    """The group (locked for this transaction unless ``lock`` is false: reads) and the actor's
    access to it; 404 when the actor cannot see it (another tenant's, or private and neither
    theirs nor invited to)."""
    if lock:
        found = await groups.lock_group(conn, actor.tenant_id, group_id)
    else:
        found = await groups.get_group(conn, actor.tenant_id, group_id)
    if found is None:
        raise NotFound(f"no group {group_id!r}")
    role = await groups.member_role(conn, actor.tenant_id, group_id, actor.id)
    invited = (
        role is None
        and await groups.get_invite(conn, actor.tenant_id, group_id, actor.id) is not None
    )
    if not can_see_group(actor, found, role, invited=invited):
        raise NotFound(f"no group {group_id!r}")
    return GroupAccess(found, role, invited)


async def _subject(conn: Connection, actor: User, user_id: str) -> User:
    return actor if user_id == actor.id else await find_visible_person(conn, actor, user_id)


def _iri(user: User) -> str:
    return user_iri(user.tenant_id, user.id)


def group_activity(
    type_: str,
    value: Group,
    *,
    actor: User,
    obj: dict[str, Any] | str,
    to: list[str] | None = None,
    role: str | None = None,
    status: str | None = None,
) -> CanonicalActivity:
    """An activity about ``value``: the whole group as ``target``, with its visibility."""
    terms = {"role": role, "status": status}
    extra: dict[str, Any] = {term: v for term, v in terms.items() if v is not None}
    return activity(
        type_,
        actor=actor,
        obj=obj,
        target=group(value),
        visibility=activity_visibility(value),
        to=to,
        traceparent=current_traceparent(),
        **extra,
    )
