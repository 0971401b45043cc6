"""The ``groups`` and ``memberships`` rows a read model keeps: which groups there are, who is
in them, with what role.

Analytics and notify each keep both tables in their own schema (docs/architecture.md §1),
created by their migrations as ``groups (tenant_id, group_id, name, visibility)`` and
``memberships (tenant_id, group_id, user_id, role)``, and write them the same way, here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from canopy_common.activities import Membership
    from canopy_common.db import Connection


async def upsert_group_row(
    conn: Connection, tenant: str, group_id: str, *, name: str | None, visibility: str
) -> None:
    """Add or update a group's row; a ``name`` of None keeps the one stored. ``visibility`` is
    spelled as the service stores it."""
    await conn.execute(
        "INSERT INTO groups (tenant_id, group_id, name, visibility) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (tenant_id, group_id) DO UPDATE SET "
        "name = coalesce(EXCLUDED.name, groups.name), visibility = EXCLUDED.visibility",
        tenant,
        group_id,
        name,
        visibility,
    )


async def apply_membership_row(conn: Connection, tenant: str, change: Membership) -> None:
    """Write ``change`` to the ``memberships`` table: a joining member's row is added (or its
    role updated), a leaving member's row deleted."""
    if change.joining:
        await conn.execute(
            "INSERT INTO memberships (tenant_id, group_id, user_id, role) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (tenant_id, group_id, user_id) DO UPDATE SET role = EXCLUDED.role",
            tenant,
            change.group_id,
            change.member,
            change.role,
        )
    else:
        await conn.execute(
            "DELETE FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
            tenant,
            change.group_id,
            change.member,
        )
