"""Groups and memberships in the ``ingestion`` schema (the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from canopy_common.db import Connection
from canopy_ingestion.adapters.keyed_fetch import fetch_by_keys
from canopy_ingestion.domain.model import (
    Group,
    GroupInvite,
    GroupVisibility,
    JoinPolicy,
    MemberRole,
)


async def get_group(conn: Connection, tenant_id: str, group_id: str) -> Group | None:
    row = await conn.fetchrow(
        "SELECT * FROM groups WHERE tenant_id = $1 AND id = $2", tenant_id, group_id
    )
    return group_from_row(row) if row is not None else None


async def groups_by_key(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Group]:
    """The groups that exist among ``(tenant id, group id)`` keys, of any tenants (one query)."""
    rows = await fetch_by_keys(
        conn,
        "SELECT g.* FROM groups g JOIN unnest($1::text[], $2::text[]) AS k (tenant_id, id) "
        "  ON g.tenant_id = k.tenant_id AND g.id = k.id",
        keys,
    )
    return {(row["tenant_id"], row["id"]): group_from_row(row) for row in rows}


async def roles_by_key(
    conn: Connection, keys: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], MemberRole]:
    """Members' roles by ``(tenant id, group id, user id)`` (non-members left out; one query)."""
    rows = await fetch_by_keys(
        conn,
        "SELECT m.tenant_id, m.group_id, m.user_id, m.role FROM memberships m "
        "JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (tenant_id, group_id, user_id) "
        "  ON m.tenant_id = k.tenant_id AND m.group_id = k.group_id AND m.user_id = k.user_id",
        keys,
    )
    return {
        (row["tenant_id"], row["group_id"], row["user_id"]): MemberRole(row["role"]) for row in rows
    }


def group_from_row(row: asyncpg.Record) -> Group:
    return Group(
        tenant_id=row["tenant_id"],
        id=row["id"],
        name=row["name"],
        visibility=GroupVisibility(row["visibility"]),
        owner_id=row["owner_id"],
        description=row["description"],
        join_policy=JoinPolicy(row["join_policy"]),
        archived_at=row["archived_at"],
    )


async def member_role(
    conn: Connection, tenant_id: str, group_id: str, user_id: str
) -> MemberRole | None:
    """The person's role in the group; None when they are not a member."""
    role = await conn.fetchval(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
        tenant_id,
        group_id,
        user_id,
    )
    return MemberRole(role) if role else None


# --- writes ---------------------------------------------------------------------------------


async def lock_group(conn: Connection, tenant_id: str, group_id: str) -> Group | None:
    """:func:`get_group`, holding the group's row lock until the transaction ends, so
    membership changes of one group (and the last-owner rule) are serialised."""
    row = await conn.fetchrow(
        "SELECT id FROM groups WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant_id, group_id
    )
    return None if row is None else await get_group(conn, tenant_id, group_id)


async def insert_group(conn: Connection, value: Group) -> None:
    await conn.execute(
        "INSERT INTO groups "
        "(tenant_id, id, name, description, visibility, owner_id, join_policy) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        value.tenant_id,
        value.id,
        value.name,
        value.description,
        value.visibility.value,
        value.owner_id,
        value.join_policy.value,
    )


async def update_group(conn: Connection, value: Group) -> None:
    """Store a group's name, description, join policy and archived state."""
    await conn.execute(
        "UPDATE groups SET name = $3, description = $4, join_policy = $5, archived_at = $6, "
        "updated_at = now() WHERE tenant_id = $1 AND id = $2",
        value.tenant_id,
        value.id,
        value.name,
        value.description,
        value.join_policy.value,
        value.archived_at,
    )


async def add_member(
    conn: Connection,
    tenant_id: str,
    group_id: str,
    user_id: str,
    role: MemberRole,
    *,
    activity_id: str,
) -> None:
    """Insert a membership; ``activity_id`` is the Join or Add that created it."""
    await conn.execute(
        "INSERT INTO memberships (tenant_id, group_id, user_id, role, activity_id) "
        "VALUES ($1, $2, $3, $4, $5)",
        tenant_id,
        group_id,
        user_id,
        role.value,
        activity_id,
    )


async def set_member_role(
    conn: Connection, tenant_id: str, group_id: str, user_id: str, role: MemberRole
) -> None:
    await conn.execute(
        "UPDATE memberships SET role = $4 WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
        tenant_id,
        group_id,
        user_id,
        role.value,
    )


async def remove_member(conn: Connection, tenant_id: str, group_id: str, user_id: str) -> None:
    await conn.execute(
        "DELETE FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
        tenant_id,
        group_id,
        user_id,
    )


async def count_owners(conn: Connection, tenant_id: str, group_id: str) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND role = $3",
        tenant_id,
        group_id,
        MemberRole.OWNER.value,
    )
    return count


# --- invites --------------------------------------------------------------------------------


async def get_invite(
    conn: Connection, tenant_id: str, group_id: str, invitee_id: str
) -> GroupInvite | None:
    """The person's pending invite to the group, if any."""
    row = await conn.fetchrow(
        "SELECT * FROM invites WHERE tenant_id = $1 AND group_id = $2 AND invitee_id = $3",
        tenant_id,
        group_id,
        invitee_id,
    )
    if row is None:
        return None
    return GroupInvite(
        tenant_id=row["tenant_id"],
        group_id=row["group_id"],
        invitee_id=row["invitee_id"],
        inviter_id=row["inviter_id"],
        activity_id=row["activity_id"],
        created_at=row["created_at"],
    )


async def insert_invite(
    conn: Connection,
    tenant_id: str,
    group_id: str,
    invitee_id: str,
    *,
    inviter_id: str,
    activity_id: str,
) -> GroupInvite:
    """Record a pending invite (the caller holds the group's lock and checked there is none)."""
    created_at = await conn.fetchval(
        "INSERT INTO invites (tenant_id, group_id, invitee_id, inviter_id, activity_id) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
        tenant_id,
        group_id,
        invitee_id,
        inviter_id,
        activity_id,
    )
    return GroupInvite(tenant_id, group_id, invitee_id, inviter_id, activity_id, created_at)


async def remove_invite(conn: Connection, tenant_id: str, group_id: str, invitee_id: str) -> None:
    """Consume the person's invite to the group (they joined or were added), if any."""
    await conn.execute(
        "DELETE FROM invites WHERE tenant_id = $1 AND group_id = $2 AND invitee_id = $3",
        tenant_id,
        group_id,
        invitee_id,
    )
