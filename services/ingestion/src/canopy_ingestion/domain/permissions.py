"""Who may see, join, post in and administer a group, and who may see a person. Pure rules.

- A member sees their group, and so does someone with a pending invite to it. Otherwise:
  everyone (guests too) sees a ``public`` group, employees and bots see an ``internal`` one,
  nobody sees a ``private`` one. A group the caller cannot see answers 404, never 403 (its
  existence is not disclosed).
- Anyone may join a group they can see that is not private; a private group needs one of its
  admins or owners to add someone, or an invite, with which the invitee joins by themselves.
  A public or internal group whose ``join_policy`` is ``request`` is joined by asking: the
  person's join makes a pending request (an invite still lets them in at once), which its
  admins and owners list, approve (by adding the person) or decline; the requester may
  withdraw it. A private group takes no requests (nobody outside it even sees it).
- Members invite people they can see: any member into a public or internal group, admins and
  owners into a private one. A guest is invited into a group other than a public one only by
  its admins and owners (as only they may add a guest). A member cannot be invited (409).
- Admins and owners add, remove and change the role of members; only an owner grants the
  owner role, changes an owner's role or removes an owner. A member may leave; the last owner
  may neither leave nor step down until there is another owner. An admin may add a guest to
  any group (how partners get into private project groups); the guest then sees it as a member.
- Employees and bots see every active person of their tenant; a guest sees themselves and the
  people they share a group with.
- A group's admins and owners edit it (name, description, join policy), archive and unarchive
  it, and pin posts in it; so may a tenant admin (token role), for a group they can see — an
  audited action when they are not its admin. Nobody sees a private group they are not in, a
  tenant admin neither: the one visibility rule has no exception for admins.
- An archived group takes no posts, joins, requests, invites, adds or pins (409); leaving,
  removals, role changes and reads go on, and its admins may unarchive it.
- An announcement (``kind: announcement``) goes into a group from its admins and owners only,
  and to the whole tenant (no group) from tenant admins only; bots (the tenant's upstream
  systems, which an admin provisioned to announce) may post one wherever they may post.
"""

from __future__ import annotations

from enum import StrEnum

from canopy_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from canopy_common.visibility import Person, Reader, sees_group, sees_person
from canopy_ingestion.domain.model import (
    Group,
    GroupVisibility,
    JoinPolicy,
    MemberRole,
    User,
    UserKind,
)

ADMIN_ROLES = frozenset({MemberRole.OWNER, MemberRole.ADMIN})


class MembershipChange(StrEnum):
    """What a ``PUT``/``DELETE`` of a membership turns out to be (the activity it emits)."""

    JOIN = "Join"  # a person joins by themselves
    REQUEST = "request"  # a person asks to join (a pending Join); nobody is a member yet
    PENDING = "pending"  # the person's request is pending already: nothing to emit
    ADD = "Add"  # an admin adds someone
    ROLE = "Update"  # an admin (or owner) changes a member's role
    UNCHANGED = "unchanged"  # the membership already is what was asked: nothing to emit
    LEAVE = "Leave"  # a member leaves by themselves
    REMOVE = "Remove"  # an admin removes someone


class GroupArchived(Conflict):
    """What an archived group refuses: 409, saying so."""

    code = "group-archived"

    def __init__(self, group: Group, what: str) -> None:
        super().__init__(
            f"group {group.id!r} is archived: it takes no {what}; its admins may unarchive it",
            extra={"group_id": group.id},
        )


def check_not_archived(group: Group, what: str) -> None:
    """Raise :class:`GroupArchived` when ``group`` is archived (``what`` it refused)."""
    if group.archived:
        raise GroupArchived(group, what)


class JoinRequestEnd(StrEnum):
    """How a pending join request ends without a membership (the activity it emits)."""

    REJECT = "Reject"  # an admin or owner declines it
    WITHDRAW = "Undo"  # the requester withdraws it


def check_join_policy(visibility: GroupVisibility, policy: JoinPolicy) -> None:
    """Raise :class:`InvalidInput` for a private group that would take join requests."""
    if policy is JoinPolicy.REQUEST and visibility is GroupVisibility.PRIVATE:
        raise InvalidInput(
            "join_policy 'request' needs a public or internal group: nobody outside a private "
            "group sees it to ask; people join it by invite or an admin's add",
            extra={"field": "join_policy"},
        )


def can_see_group(
    user: User, group: Group, role: MemberRole | None, *, invited: bool = False
) -> bool:
    """Whether ``user`` (whose role in ``group`` is ``role``, None if not a member; invited
    to it or not) sees it: the common rule, :func:`canopy_common.visibility.sees_group`."""
    return sees_group(
        reader_of(user),
        group.visibility,
        member=role is not None,
        invited=invited,
        tenant_id=group.tenant_id,
    )


def reader_of(user: User) -> Reader:
    """``user`` as the visibility rule knows a reader."""
    return Reader(id=user.id, guest=user.is_guest, active=user.active, tenant_id=user.tenant_id)


def can_post_in_group(user: User, group: Group, role: MemberRole | None) -> bool:
    """Whether ``user`` may post into ``group``: members always; guests only as members;
    nobody into a private group they are not in; others into groups they can see."""
    if not can_see_group(user, group, role):
        return False
    if role is not None:
        return True
    return not user.is_guest and group.visibility is not GroupVisibility.PRIVATE


def can_join(user: User, group: Group) -> bool:
    """Whether ``user`` may join ``group`` by themselves (public or internal, if they see it)."""
    return group.visibility is not GroupVisibility.PRIVATE and can_see_group(user, group, None)


def can_administer(role: MemberRole | None) -> bool:
    """Whether a member with ``role`` may add, remove and change members."""
    return role in ADMIN_ROLES


def can_see_person(viewer: User, person: User, *, shares_group: bool, former: bool = False) -> bool:
    """Whether ``viewer`` sees ``person``'s profile (and may follow, block or mute them);
    with ``former``, a deactivated person's profile too (never an erased one)."""
    return sees_person(
        Reader(viewer.id, guest=viewer.is_guest, tenant_id=viewer.tenant_id),
        Person(
            person.id, active=person.active, former=person.is_former, tenant_id=person.tenant_id
        ),
        shares_group=shares_group,
        former=former,
    )


def decide_membership_put(
    actor: User,
    group: Group,
    *,
    actor_role: MemberRole | None,
    subject: User,
    subject_role: MemberRole | None,
    wanted: MemberRole,
    owners: int,
    invited: bool = False,
    requested: bool = False,
) -> MembershipChange:
    """What ``actor`` setting ``subject``'s role in ``group`` to ``wanted`` does.

    ``owners`` is how many owners the group has now, ``invited`` whether the actor holds a
    pending invite to it, ``requested`` whether they have asked to join it already. Raises
    :class:`NotFound` when the actor cannot see the group, :class:`Forbidden` when the rules
    above refuse, :class:`Conflict` when the last owner would step down.
    """
    _require_visible(actor, group, actor_role, invited=invited)
    itself = actor.id == subject.id
    if itself and subject_role == wanted:
        return MembershipChange.UNCHANGED
    if subject_role is None:
        check_not_archived(group, "new members")
    if itself and subject_role is None:
        if wanted is not MemberRole.MEMBER:
            raise Forbidden(f"you join as a member; an admin or owner may make you {wanted}")
        if not (invited or can_join(actor, group)):
            raise Forbidden(
                "a private group needs an invite, or one of its admins or owners to add you"
            )
        if group.join_policy is JoinPolicy.REQUEST and not invited:
            return MembershipChange.PENDING if requested else MembershipChange.REQUEST
        return MembershipChange.JOIN
    if not can_administer(actor_role):
        raise Forbidden("only the group's admins and owners may add members or change roles")
    if subject_role == wanted:
        return MembershipChange.UNCHANGED
    if actor_role is not MemberRole.OWNER and MemberRole.OWNER in (wanted, subject_role):
        raise Forbidden("only an owner may grant the owner role or change an owner's role")
    if subject_role is MemberRole.OWNER and owners <= 1:
        raise Conflict("the group's last owner cannot step down; make someone else owner first")
    return MembershipChange.ADD if subject_role is None else MembershipChange.ROLE


def decide_membership_delete(
    actor: User,
    group: Group,
    *,
    actor_role: MemberRole | None,
    subject: User | None,
    subject_role: MemberRole | None,
    owners: int,
) -> MembershipChange:
    """What ``actor`` removing ``subject`` from ``group`` does: a Leave or a Remove.

    Raises :class:`NotFound` when the actor cannot see the group or the subject is not a
    member, :class:`Forbidden` and :class:`Conflict` as :func:`decide_membership_put`.
    """
    _require_visible(actor, group, actor_role)
    if subject is None or subject_role is None:
        raise NotFound("that person is not a member of this group")
    itself = actor.id == subject.id
    if not itself and not can_administer(actor_role):
        raise Forbidden("only the group's admins and owners may remove members")
    if not itself and subject_role is MemberRole.OWNER and actor_role is not MemberRole.OWNER:
        raise Forbidden("only an owner may remove an owner")
    if subject_role is MemberRole.OWNER and owners <= 1:
        raise Conflict("the group's last owner cannot leave; make someone else owner first")
    return MembershipChange.LEAVE if itself else MembershipChange.REMOVE


def decide_invite(
    inviter: User,
    group: Group,
    *,
    inviter_role: MemberRole | None,
    invitee: User,
    invitee_role: MemberRole | None,
    inviter_invited: bool = False,
) -> None:
    """Whether ``inviter`` may invite ``invitee`` (already known to be visible to them).

    Raises :class:`NotFound` when the inviter cannot see the group, :class:`Forbidden` when
    the rules above refuse (a pending invitee sees the group but is no member yet),
    :class:`Conflict` when the invitee is a member already.
    """
    _require_visible(inviter, group, inviter_role, invited=inviter_invited)
    check_not_archived(group, "new members")
    if inviter_role is None:
        raise Forbidden("only the group's members may invite people to it")
    admin = can_administer(inviter_role)
    if group.visibility is GroupVisibility.PRIVATE and not admin:
        raise Forbidden("only the group's admins and owners may invite people to a private group")
    if invitee.is_guest and group.visibility is not GroupVisibility.PUBLIC and not admin:
        raise Forbidden("only the group's admins and owners may invite a guest")
    if invitee_role is not None:
        raise Conflict(f"{invitee.id!r} is a member of this group already")


def decide_join_requests_read(actor: User, group: Group, *, actor_role: MemberRole | None) -> None:
    """Whether ``actor`` may list ``group``'s pending join requests: its admins and owners.

    Raises :class:`NotFound` when the actor cannot see the group, :class:`Forbidden` otherwise.
    """
    _require_visible(actor, group, actor_role)
    if not can_administer(actor_role):
        raise Forbidden("only the group's admins and owners see its join requests")


def decide_join_request_delete(
    actor: User,
    group: Group,
    *,
    actor_role: MemberRole | None,
    requester_id: str,
    pending: bool,
) -> JoinRequestEnd:
    """What ending ``requester_id``'s join request does: the requester withdraws it, an admin
    or owner declines it.

    Raises :class:`NotFound` when the actor cannot see the group or there is no such request,
    :class:`Forbidden` when someone else's request is not theirs to answer (checked first, so
    only admins learn who asked).
    """
    _require_visible(actor, group, actor_role)
    itself = actor.id == requester_id
    if not itself and not can_administer(actor_role):
        raise Forbidden("only the group's admins and owners answer join requests")
    if not pending:
        raise NotFound(f"no pending join request from {requester_id!r}")
    return JoinRequestEnd.WITHDRAW if itself else JoinRequestEnd.REJECT


def decide_group_admin(
    actor: User, group: Group, *, actor_role: MemberRole | None, tenant_admin: bool
) -> bool:
    """Whether ``actor`` may edit, archive or unarchive ``group``: its admins and owners, or
    a tenant admin (``tenant_admin``: the token's role). Returns whether they act as tenant
    admin only (the action is audited then). Raises :class:`NotFound` when the actor cannot
    see the group, :class:`Forbidden` otherwise."""
    _require_visible(actor, group, actor_role)
    if can_administer(actor_role):
        return False
    if tenant_admin:
        return True
    raise Forbidden("only the group's admins and owners (or a tenant admin) may change it")


def decide_pin(actor: User, group: Group, *, actor_role: MemberRole | None) -> None:
    """Whether ``actor`` may pin or unpin posts in ``group``: its admins and owners, while it
    is not archived. Raises :class:`NotFound` when the actor cannot see the group,
    :class:`Forbidden` or :class:`GroupArchived` otherwise."""
    _require_visible(actor, group, actor_role)
    if not can_administer(actor_role):
        raise Forbidden("only the group's admins and owners may pin and unpin its posts")
    check_not_archived(group, "pins")


def check_announcement(
    actor: User, group: Group | None, role: MemberRole | None, *, tenant_admin: bool
) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may post an announcement into ``group`` (its
    admins and owners) or, without a group, to the whole tenant (tenant admins). Bots may:
    they are the upstream systems a tenant admin provisioned to announce."""
    if actor.kind is UserKind.BOT:
        return
    if group is not None and not can_administer(role):
        raise Forbidden(
            "only the group's admins and owners may post an announcement in it; "
            "post a note instead",
            extra={"field": "kind"},
        )
    if group is None and not tenant_admin:
        raise Forbidden(
            "only tenant admins may post an announcement to the whole tenant; "
            "post a note, or an announcement in a group you administer",
            extra={"field": "kind"},
        )


def _require_visible(
    actor: User, group: Group, role: MemberRole | None, *, invited: bool = False
) -> None:
    if not can_see_group(actor, group, role, invited=invited):
        raise NotFound(f"no group {group.id!r}")
