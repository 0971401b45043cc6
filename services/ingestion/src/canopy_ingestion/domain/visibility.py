"""Who sees a post, and which audiences a new post may have. Pure rules.

A post in a group is seen only by those who see the group (a private group's items never
leave it); within that, its visibility decides:

- ``public``: everyone in the tenant, guests too;
- ``internal``: employees (and the tenant's bots), never guests;
- ``group``: members of its group;
- ``followers``: the author's followers (guests excluded) and the people it mentions;
- ``direct``: its addressees and the people it mentions.

The author always sees their own post. Guests (external partners) therefore see public items,
the items of groups they belong to, and what is addressed to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from canopy_common.errors import InvalidInput
from canopy_common.events import Visibility
from canopy_ingestion.domain.model import Group, GroupVisibility, MemberRole, Post, User
from canopy_ingestion.domain.permissions import can_see_group
from canopy_ingestion.domain.policy import MAX_ADDRESSEES

# The widest visibility a post may have in a group of each kind: never wider than the group.
_ALLOWED_IN_GROUP: dict[GroupVisibility, frozenset[Visibility]] = {
    GroupVisibility.PRIVATE: frozenset({Visibility.GROUP}),
    GroupVisibility.INTERNAL: frozenset({Visibility.GROUP, Visibility.INTERNAL}),
    GroupVisibility.PUBLIC: frozenset({Visibility.GROUP, Visibility.INTERNAL, Visibility.PUBLIC}),
}
_OUTSIDE_GROUPS = frozenset(
    {Visibility.PUBLIC, Visibility.INTERNAL, Visibility.FOLLOWERS, Visibility.DIRECT}
)


def can_see_post(
    viewer: User,
    post: Post,
    *,
    group: Group | None,
    role: MemberRole | None,
    follows_author: bool,
) -> bool:
    """Whether ``viewer`` sees ``post``; ``group`` is the post's group, ``role`` the viewer's
    role in it (None: not a member), ``follows_author`` whether the viewer follows the author."""
    if post.tenant_id != viewer.tenant_id or post.deleted or not viewer.active:
        return False
    if viewer.id == post.author_id:
        return True
    if post.group_id is not None and (group is None or not can_see_group(viewer, group, role)):
        return False
    match post.visibility:
        case Visibility.PUBLIC:
            return True
        case Visibility.INTERNAL:
            return not viewer.is_guest
        case Visibility.GROUP:
            return role is not None
        case Visibility.FOLLOWERS:
            return (follows_author and not viewer.is_guest) or viewer.id in post.mentions
        case Visibility.DIRECT:
            return viewer.id in post.to_ids or viewer.id in post.mentions
    return False


def reaches_guests(
    post: Post, group: Group | None, *, guest_addressees: bool, guest_members: bool
) -> bool:
    """Whether a guest could read ``post`` — where the content policy refuses secrets.

    A post in a public group counts (any guest may join and read its history);
    ``guest_members`` says whether a guest belongs to its (non-public) group,
    ``guest_addressees`` whether it is addressed to or mentions a guest.
    """
    open_group = group is not None and group.visibility is GroupVisibility.PUBLIC
    match post.visibility:
        case Visibility.PUBLIC:
            return group is None or open_group or guest_members
        case Visibility.GROUP:
            return open_group or guest_members
        case Visibility.DIRECT | Visibility.FOLLOWERS:
            # Guests are never followers' audience; a mentioned guest sees either.
            return guest_addressees
    return False


@dataclass(frozen=True)
class Audience:
    """Where a new post goes: its group (if any), visibility and addressees."""

    group: Group | None
    visibility: Visibility
    to_ids: tuple[str, ...] = ()


def default_visibility(*, group: Group | None, to_ids: tuple[str, ...]) -> Visibility:
    """``group`` in a group, ``direct`` when addressed to people, else ``internal``."""
    if group is not None:
        return Visibility.GROUP
    return Visibility.DIRECT if to_ids else Visibility.INTERNAL


def check_audience(author: User, audience: Audience) -> None:
    """Refuse (422) an audience that makes no sense: wider than its group, ``group`` without a
    group, addressees on anything but a direct post, a direct post to nobody, ``internal`` by a
    guest (they could not read it themselves)."""
    visibility, group, to_ids = audience.visibility, audience.group, audience.to_ids
    if group is not None and visibility not in _ALLOWED_IN_GROUP[group.visibility]:
        allowed = ", ".join(sorted(_ALLOWED_IN_GROUP[group.visibility]))
        raise InvalidInput(
            f"a post in a {group.visibility} group may be {allowed}, not {visibility}",
            extra={"field": "visibility"},
        )
    if group is None and visibility not in _OUTSIDE_GROUPS:
        raise InvalidInput("visibility 'group' needs a group_id", extra={"field": "visibility"})
    if visibility is Visibility.DIRECT and not to_ids:
        raise InvalidInput("a direct post needs its addressees in 'to'", extra={"field": "to"})
    if visibility is not Visibility.DIRECT and to_ids:
        raise InvalidInput(
            "'to' names the addressees of a direct post; set visibility to 'direct'",
            extra={"field": "to"},
        )
    if len(to_ids) > MAX_ADDRESSEES:
        raise InvalidInput(
            f"a direct post may have at most {MAX_ADDRESSEES} addressees",
            code="limit-exceeded",
            extra={"field": "to", "limit": MAX_ADDRESSEES, "actual": len(to_ids)},
        )
    if author.is_guest and visibility is Visibility.INTERNAL:
        raise InvalidInput(
            "guests cannot post 'internal' items; use 'group' or 'public'",
            extra={"field": "visibility"},
        )
