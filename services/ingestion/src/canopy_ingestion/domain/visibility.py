"""Who sees a post, and which audiences a new post may have. Pure rules.

Who sees a post is the common visibility rule (:mod:`canopy_common.visibility`), applied here
to the write model's post, group and the viewer's role. Guests (external partners) therefore
see public items, the items of groups they belong to, and what is addressed to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from canopy_common.errors import InvalidInput
from canopy_common.events import Visibility
from canopy_common.visibility import Content, Ties, may_see
from canopy_ingestion.domain.model import Group, GroupVisibility, MemberRole, Post, User
from canopy_ingestion.domain.permissions import reader_of
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
    blocked: bool = False,
) -> bool:
    """Whether ``viewer`` sees ``post``; ``group`` is the post's group, ``role`` the viewer's
    role in it (None: not a member), ``follows_author`` whether the viewer follows the author,
    ``blocked`` whether either of the two blocked the other (the reads that apply blocks say so).
    The common rule, :func:`canopy_common.visibility.may_see`: a post whose group is missing
    counts as in a private group."""
    known = group if group is not None and group.tenant_id == post.tenant_id else None
    content = Content(
        tenant_id=post.tenant_id,
        author_id=post.author_id,
        visibility=post.visibility,
        group_id=post.group_id,
        group_visibility=known.visibility if known is not None else None,
        addressees=post.to_ids,
        mentions=post.mentions,
        deleted=post.deleted,
    )
    follows = frozenset({post.author_id}) if follows_author else frozenset[str]()
    ties = Ties(follows=follows, member=known is not None and role is not None, blocked=blocked)
    return may_see(reader_of(viewer), content, ties)


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
