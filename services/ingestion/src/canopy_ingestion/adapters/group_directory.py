"""Reading groups as people meet them (docs/architecture.md §16): the directory, one group with
the caller's standing in it, and its members. Each page is one keyset query; the caller owns
the transaction. Which groups and people a query returns mirrors the one visibility rule
(:func:`canopy_common.visibility.group_visibilities_seen`, the guest's shared groups), so
pages come out full; the handlers check every row against the rule again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from canopy_common.db import Connection
from canopy_common.visibility import group_visibilities_seen
from canopy_ingestion.adapters.groups import group_from_row
from canopy_ingestion.adapters.people import user_from_row
from canopy_ingestion.domain.model import Group, MemberRole, User

# Owners first, then admins, then members: the order of a member list.
_RANK_SQL = "CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class GroupStanding:
    """A group as one person meets it: how many members it has, their membership (role and
    since when), whether they hold an invite or have asked to join."""

    group: Group
    member_count: int
    created_at: datetime
    role: MemberRole | None = None
    joined_at: datetime | None = None
    invited: bool = False
    requested: bool = False


# The group with the caller ($2) as they stand in it; `g` and `m` for the WHERE clauses.
_STANDING_SQL = """
SELECT g.*, lower(g.name) AS sort_name, m.role AS my_role, m.created_at AS joined_at,
       (SELECT count(*) FROM memberships c
        WHERE c.tenant_id = g.tenant_id AND c.group_id = g.id) AS member_count,
       EXISTS (SELECT 1 FROM invites i WHERE i.tenant_id = g.tenant_id AND i.group_id = g.id
               AND i.invitee_id = $2) AS invited,
       EXISTS (SELECT 1 FROM join_requests r WHERE r.tenant_id = g.tenant_id
               AND r.group_id = g.id AND r.requester_id = $2) AS requested
FROM groups g
LEFT JOIN memberships m ON m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id = $2
WHERE g.tenant_id = $1
"""


def _standing(row: asyncpg.Record) -> GroupStanding:
    return GroupStanding(
        group=group_from_row(row),
        member_count=row["member_count"],
        created_at=row["created_at"],
        role=MemberRole(row["my_role"]) if row["my_role"] else None,
        joined_at=row["joined_at"],
        invited=row["invited"],
        requested=row["requested"],
    )


async def group_standing(conn: Connection, viewer: User, group_id: str) -> GroupStanding | None:
    """The group of the viewer's tenant and how the viewer stands in it, whoever may see it."""
    row = await conn.fetchrow(
        _STANDING_SQL + " AND g.id = $3", viewer.tenant_id, viewer.id, group_id
    )
    return _standing(row) if row is not None else None


async def directory(
    conn: Connection,
    viewer: User,
    *,
    text: str | None,
    mine: bool,
    limit: int,
    after: tuple[str, str] | None,
) -> list[tuple[GroupStanding, tuple[str, str]]]:
    """The groups ``viewer`` sees — the public and internal ones a non-member of their kind
    sees, those they belong to or are invited to (only the ones they belong to when
    ``mine``) — whose name or description holds ``text`` (any case), by name (any case)
    then id, after the ``after`` sort key. Each with its sort key (the next cursor)."""
    args: list[Any] = [viewer.tenant_id, viewer.id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if mine:
        conditions = ["m.user_id IS NOT NULL"]
    else:
        open_to = [v.value for v in group_visibilities_seen(guest=viewer.is_guest)]
        conditions = [
            f"(m.user_id IS NOT NULL OR g.visibility = ANY({arg(open_to)}::text[]) OR EXISTS "
            "(SELECT 1 FROM invites i WHERE i.tenant_id = g.tenant_id AND i.group_id = g.id "
            "AND i.invitee_id = $2))"
        ]
    if text:
        needle = arg(text.lower())
        conditions.append(
            f"(strpos(lower(g.name), {needle}) > 0 OR strpos(lower(g.description), {needle}) > 0)"
        )
    if after is not None:
        conditions.append(f"(lower(g.name), g.id) > ({arg(after[0])}, {arg(after[1])})")
    rows = await conn.fetch(
        _STANDING_SQL
        + "".join(f" AND {condition}" for condition in conditions)
        + f" ORDER BY lower(g.name), g.id LIMIT {arg(limit)}",
        *args,
    )
    return [(_standing(row), (row["sort_name"], row["id"])) for row in rows]


@dataclass(frozen=True)
class Member:
    """A member of a group: the person, their role, since when; whether they share a group
    with the viewer (asked only for a guest viewer: employees see everyone)."""

    user: User
    role: MemberRole
    joined_at: datetime
    shares_group: bool = False


MemberKey = tuple[int, str, str]  # (role rank, lower-case name, user id)


async def members(
    conn: Connection,
    viewer: User,
    group_id: str,
    *,
    role: MemberRole | None,
    limit: int,
    after: MemberKey | None,
) -> list[tuple[Member, MemberKey]]:
    """The group's active members (only those of ``role``, when given), owners first, then
    admins, then members, each by name (any case) then id, after the ``after`` sort key. A
    guest viewer gets the people they may see: themselves and those they share a group with
    (this one, when they belong to it)."""
    args: list[Any] = [viewer.tenant_id, group_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    conditions = ["m.tenant_id = $1", "m.group_id = $2", "u.active"]
    if role is not None:
        conditions.append(f"m.role = {arg(role.value)}")
    shares = "false"
    if viewer.is_guest:
        guest = arg(viewer.id)
        shares = (
            "EXISTS (SELECT 1 FROM memberships a JOIN memberships b "
            "ON b.tenant_id = a.tenant_id AND b.group_id = a.group_id "
            f"WHERE a.tenant_id = u.tenant_id AND a.user_id = {guest} AND b.user_id = u.id)"
        )
        conditions.append(f"(u.id = {guest} OR {shares})")
    if after is not None:
        key = f"({arg(after[0])}::int, {arg(after[1])}, {arg(after[2])})"
        conditions.append(f"({_RANK_SQL}, lower(u.display_name), u.id) > {key}")
    rows = await conn.fetch(
        f"SELECT u.*, m.role AS member_role, m.created_at AS joined_at, {_RANK_SQL} AS rank, "
        f"lower(u.display_name) AS sort_name, {shares} AS shares_group "
        "FROM memberships m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY rank, sort_name, u.id LIMIT {arg(limit)}",
        *args,
    )
    return [
        (
            Member(
                user_from_row(row),
                MemberRole(row["member_role"]),
                row["joined_at"],
                row["shares_group"],
            ),
            (row["rank"], row["sort_name"], row["id"]),
        )
        for row in rows
    ]
