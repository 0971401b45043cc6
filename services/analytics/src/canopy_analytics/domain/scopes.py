"""Who may read which analytics (issue 6; docs/architecture.md §8).

- Tenant-wide reports (summary, timeseries, trending): analysts and tenant admins.
- A group's report: them, and that group's owners and admins.
- A post's report: them, and its author.

Refusals never reveal what the caller cannot see: something they cannot see answers 404
(as another tenant's does); 403 only for what they can see but may not analyse, such as a
group they are a plain member of.
"""

from __future__ import annotations

from enum import Enum

from canopy_common.principal import Principal, Role
from canopy_common.visibility import (
    Content,
    Reader,
    Ties,
    group_visibilities_seen,
    may_see,
    sees_group,
)

# Roles that see the whole tenant's analytics.
TENANT_ANALYTICS_ROLES: tuple[Role, ...] = (Role.ANALYST, Role.TENANT_ADMIN)
# Membership roles that see their group's analytics.
GROUP_ANALYTICS_ROLES = frozenset({"owner", "admin"})
GUEST_KIND = "guest"


class Access(Enum):
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"  # 403: visible, but not theirs to analyse
    HIDDEN = "hidden"  # 404: they may not even know it exists


def sees_tenant(principal: Principal) -> bool:
    """Whether the caller reads the tenant's analytics."""
    return principal.has_role(*TENANT_ANALYTICS_ROLES)


def is_guest(principal: Principal, profile_kind: str | None) -> bool:
    """A guest (external partner): a token granting guest but not member, or a profile of
    kind guest. Either suffices: the narrower view wins."""
    by_token = principal.has_role(Role.GUEST) and not principal.has_role(Role.MEMBER)
    return by_token or profile_kind == GUEST_KIND


def visible_group_kinds(guest: bool) -> tuple[str, ...]:
    """Group visibilities a non-member may see, as the groups table spells them: guests only
    public groups, employees public and internal ones; private groups only their members."""
    return tuple(kind.value for kind in group_visibilities_seen(guest=guest))


def group_report_access(
    principal: Principal, *, visibility: str, role: str | None, guest: bool
) -> Access:
    """May the caller read the report of a group (its ``visibility``, the caller's membership
    ``role`` in it or None)?"""
    if sees_tenant(principal) or role in GROUP_ANALYTICS_ROLES:
        return Access.ALLOWED
    if sees_group(Reader(id=principal.user_id, guest=guest), visibility, member=role is not None):
        return Access.FORBIDDEN
    return Access.HIDDEN


def post_report_access(
    principal: Principal,
    *,
    author_id: str | None,
    visibility: str | None,
    in_its_group: bool,
    follows_author: bool,
    guest: bool,
    group_id: str | None = None,
    group_visibility: str | None = None,
) -> Access:
    """May the caller read the report of a post? Its author and the tenant's analysts may;
    anyone else who can see the post (the common rule, with what analytics knows: no
    addressees, mentions or blocks) is refused (403), anyone who cannot sees a 404.
    ``group_id`` and ``group_visibility`` are the post's group and its visibility (unknown:
    private)."""
    if sees_tenant(principal) or (author_id is not None and author_id == principal.user_id):
        return Access.ALLOWED
    post = Content(
        author_id=author_id,
        visibility=visibility,
        group_id=group_id,
        group_visibility=group_visibility,
    )
    ties = Ties(
        follows=frozenset({author_id}) if follows_author and author_id else frozenset(),
        member=in_its_group,
    )
    visible = may_see(Reader(id=principal.user_id, guest=guest), post, ties)
    return Access.FORBIDDEN if visible else Access.HIDDEN
