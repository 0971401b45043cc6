"""Pending join requests in the ``ingestion`` schema (the caller owns the transaction)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from canopy_common.db import Connection
from canopy_ingestion.domain.model import JoinRequest


async def get_request(
    conn: Connection, tenant_id: str, group_id: str, requester_id: str
) -> JoinRequest | None:
    """The person's pending request to join the group, if any."""
    row = await conn.fetchrow(
        "SELECT * FROM join_requests WHERE tenant_id = $1 AND group_id = $2 AND requester_id = $3",
        tenant_id,
        group_id,
        requester_id,
    )
    return None if row is None else _request(row)


async def list_requests(
    conn: Connection,
    tenant_id: str,
    group_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[JoinRequest]:
    """The group's pending requests, oldest first, after the (created_at, requester) key."""
    if after is None:
        rows = await conn.fetch(
            "SELECT * FROM join_requests WHERE tenant_id = $1 AND group_id = $2 "
            "ORDER BY created_at, requester_id LIMIT $3",
            tenant_id,
            group_id,
            limit,
        )
    else:
        rows = await conn.fetch(
            "SELECT * FROM join_requests WHERE tenant_id = $1 AND group_id = $2 "
            "AND (created_at, requester_id) > ($3, $4) "
            "ORDER BY created_at, requester_id LIMIT $5",
            tenant_id,
            group_id,
            after[0],
            after[1],
            limit,
        )
    return [_request(row) for row in rows]


async def insert_request(conn: Connection, request: JoinRequest) -> None:
    """Record a pending request (the caller holds the group's lock and checked there is none)."""
    await conn.execute(
        "INSERT INTO join_requests (tenant_id, group_id, requester_id, activity_id, created_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        request.tenant_id,
        request.group_id,
        request.requester_id,
        request.activity_id,
        request.created_at,
    )


async def remove_request(
    conn: Connection, tenant_id: str, group_id: str, requester_id: str
) -> JoinRequest | None:
    """Drop the person's pending request (answered, withdrawn, or they joined); returns it."""
    row = await conn.fetchrow(
        "DELETE FROM join_requests "
        "WHERE tenant_id = $1 AND group_id = $2 AND requester_id = $3 RETURNING *",
        tenant_id,
        group_id,
        requester_id,
    )
    return None if row is None else _request(row)


def _request(row: asyncpg.Record) -> JoinRequest:
    return JoinRequest(
        tenant_id=row["tenant_id"],
        group_id=row["group_id"],
        requester_id=row["requester_id"],
        activity_id=row["activity_id"],
        created_at=row["created_at"],
    )
