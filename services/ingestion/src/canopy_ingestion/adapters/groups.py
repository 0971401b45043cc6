"""Groups and memberships in the ``ingestion`` schema (the caller owns the transaction)."""

from __future__ import annotations

from canopy_common.db import Connection
from canopy_ingestion.domain.model import Group, GroupVisibility, MemberRole


async def get_group(conn: Connection, tenant_id: str, group_id: str) -> Group | None:
    row = await conn.fetchrow(
        "SELECT * FROM groups WHERE tenant_id = $1 AND id = $2", tenant_id, group_id
    )
    if row is None:
        return None
    return Group(
        tenant_id=row["tenant_id"],
        id=row["id"],
        name=row["name"],
        visibility=GroupVisibility(row["visibility"]),
        owner_id=row["owner_id"],
        description=row["description"],
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
