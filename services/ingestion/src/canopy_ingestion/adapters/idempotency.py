"""Idempotency-Key (docs/architecture.md §4): a retried POST gets the first response, creates
nothing.

Within the request's transaction: take a lock on (tenant, user, key) so concurrent retries
queue, return the stored response if there is one, else let the request run and store what it
answered. The same key with a different body is refused: it is not a retry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from canopy_common.db import Connection
from canopy_common.errors import CanopyError

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Reply:
    """A response: its status and JSON body (what an Idempotency-Key replays)."""

    status: int
    body: Any


class IdempotencyKeyReused(CanopyError):
    status, code = 422, "idempotency-key-reused"


def request_hash(method: str, path: str, body: Any) -> str:
    return hashlib.sha256(
        orjson.dumps([method, path, body], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


async def replay(
    conn: Connection, tenant_id: str, user_id: str, key: str, fingerprint: str
) -> tuple[int, Any] | None:
    """The stored (status, body) for this key, after waiting out a concurrent first try."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise CanopyError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", 400)
    # ":" cannot occur in a tenant id, so the lock name is unambiguous (and holds no NUL,
    # which Postgres text refuses).
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"idempotency:{tenant_id}:{user_id}:{key}",
    )
    row = await conn.fetchrow(
        "SELECT request_hash, status, response FROM idempotency_keys "
        "WHERE tenant_id = $1 AND user_id = $2 AND key = $3",
        tenant_id,
        user_id,
        key,
    )
    if row is None:
        return None
    if row["request_hash"] != fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request; use a new key"
        )
    return row["status"], row["response"]


async def remember(
    conn: Connection,
    tenant_id: str,
    user_id: str,
    key: str,
    fingerprint: str,
    status: int,
    response: Any,
) -> None:
    """Store the response given to the first request with this key."""
    await conn.execute(
        "INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, status, response) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        tenant_id,
        user_id,
        key,
        fingerprint,
        status,
        response,
    )
