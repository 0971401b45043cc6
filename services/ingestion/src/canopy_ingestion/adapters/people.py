"""Tenants and people in the ``ingestion`` schema (asyncpg; the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from canopy_common.db import Connection
from canopy_ingestion.domain.model import Tenant, User, UserKind


def user_from_row(row: asyncpg.Record | dict[str, Any]) -> User:
    return User(
        tenant_id=row["tenant_id"],
        id=row["id"],
        handle=row["handle"],
        display_name=row["display_name"],
        kind=UserKind(row["kind"]),
        title=row["title"],
        department=row["department"],
        location=row["location"],
        skills=tuple(row["skills"]),
        interests=tuple(row["interests"]),
        manager_id=row["manager_id"],
        active=row["active"],
    )


async def get_tenant(conn: Connection, tenant_id: str) -> Tenant | None:
    row = await conn.fetchrow(
        "SELECT id, name, content_policy FROM tenants WHERE id = $1", tenant_id
    )
    return Tenant(row["id"], row["name"], row["content_policy"]) if row else None


async def get_user(conn: Connection, tenant_id: str, user_id: str) -> User | None:
    """A person of the tenant, active or not; None when there is no such person."""
    row = await conn.fetchrow(
        "SELECT * FROM users WHERE tenant_id = $1 AND id = $2", tenant_id, user_id
    )
    return user_from_row(row) if row else None


async def get_users(conn: Connection, tenant_id: str, user_ids: Iterable[str]) -> dict[str, User]:
    """The tenant's people among ``user_ids``, by id (one query)."""
    rows = await conn.fetch(
        "SELECT * FROM users WHERE tenant_id = $1 AND id = ANY($2::text[])",
        tenant_id,
        list(set(user_ids)),
    )
    return {row["id"]: user_from_row(row) for row in rows}


async def active_users_by_handle(
    conn: Connection, tenant_id: str, handles: Iterable[str]
) -> dict[str, User]:
    """Active people by lower-cased handle, for resolving @mentions (one query)."""
    rows = await conn.fetch(
        "SELECT * FROM users WHERE tenant_id = $1 AND active AND lower(handle) = ANY($2::text[])",
        tenant_id,
        [handle.lower() for handle in set(handles)],
    )
    return {row["handle"].lower(): user_from_row(row) for row in rows}
