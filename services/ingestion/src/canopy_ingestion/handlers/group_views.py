"""Reading groups (docs/architecture.md §16): the directory the caller may see, one group with
the caller's standing in it, and its members — each through the one visibility rule
(:func:`~canopy_ingestion.domain.permissions.can_see_group`, ``can_see_person``). A group the
caller may not see, another tenant's included, answers 404; a tenant admin is no exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from canopy_common.db import Connection
from canopy_common.errors import NotFound
from canopy_common.paging import decode_cursor, encode_cursor, trim
from canopy_ingestion.adapters import group_directory
from canopy_ingestion.adapters.group_directory import GroupStanding, Member
from canopy_ingestion.domain.model import MemberRole, User
from canopy_ingestion.domain.permissions import can_see_group, can_see_person
from canopy_ingestion.handlers.groups import visible_group

T = TypeVar("T")


@dataclass(frozen=True)
class Listed(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last)."""

    items: list[T]
    next_cursor: str | None


def sees(actor: User, standing: GroupStanding) -> bool:
    return can_see_group(actor, standing.group, standing.role, invited=standing.invited)


async def read_group(conn: Connection, actor: User, group_id: str) -> GroupStanding:
    """The group and how the caller stands in it; 404 unless they see it."""
    found = await group_directory.group_standing(conn, actor, group_id)
    if found is None or not sees(actor, found):
        raise NotFound(f"no group {group_id!r}")
    return found


async def list_groups(
    conn: Connection,
    actor: User,
    *,
    text: str | None,
    mine: bool,
    limit: int,
    cursor: str | None,
) -> Listed[GroupStanding]:
    """The directory: the groups the caller sees (or belongs to, ``mine``) matching ``text``,
    by name then id."""
    after = decode_cursor(cursor, (str, str)) if cursor is not None else None
    rows = await group_directory.directory(
        conn, actor, text=text, mine=mine, limit=limit + 1, after=after
    )
    page, more = trim(rows, limit)
    shown = [standing for standing, _ in page if sees(actor, standing)]
    return Listed(shown, encode_cursor(*page[-1][1]) if more else None)


async def list_members(
    conn: Connection,
    actor: User,
    group_id: str,
    *,
    role: MemberRole | None,
    limit: int,
    cursor: str | None,
) -> Listed[Member]:
    """The members of a group the caller sees (404 otherwise): owners, admins, members, each
    by name; only people the caller may see (a guest: those they share a group with)."""
    after = decode_cursor(cursor, (int, str, str)) if cursor is not None else None
    await visible_group(conn, actor, group_id, lock=False)
    rows = await group_directory.members(
        conn, actor, group_id, role=role, limit=limit + 1, after=after
    )
    page, more = trim(rows, limit)
    shown = [
        member
        for member, _ in page
        if can_see_person(actor, member.user, shares_group=member.shares_group)
    ]
    return Listed(shown, encode_cursor(*page[-1][1]) if more else None)
