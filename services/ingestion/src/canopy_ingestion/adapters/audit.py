"""The audit log in the ``ingestion`` schema (docs/architecture.md §14): append and read.

:func:`record` runs in the caller's transaction, so an action and its audit row commit (or
roll back) together. The table refuses UPDATE, DELETE and TRUNCATE (migration 0006).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from canopy_common.db import Connection
from canopy_ingestion.domain.audit import AuditEntry, AuditQuery, Planned


async def record(
    conn: Connection,
    *,
    tenant: str,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry: ``actor`` did ``action`` (an :class:`AuditAction`) to ``target`` in
    ``tenant``. Call it inside the action's own transaction. ``details`` is JSON: what changed
    (ids, role names, counts), never a person's profile (an erasure must not survive in it).
    ``at`` is when it happened, for an action taken elsewhere (default: now)."""
    await conn.execute(
        "INSERT INTO audit_log (tenant_id, actor, action, target, details, at) "
        "VALUES ($1, $2, $3, $4, $5, COALESCE($6, now()))",
        tenant,
        actor,
        action,
        target,
        dict(details or {}),
        at,
    )


async def read(conn: Connection, tenant: str, query: AuditQuery, *, limit: int) -> list[AuditEntry]:
    """Up to ``limit`` of the tenant's entries matching ``query``, newest first."""
    rows = await conn.fetch(
        "SELECT seq, tenant_id, at, actor, action, target, details FROM audit_log "
        "WHERE tenant_id = $1 "
        "AND ($2::text IS NULL OR action = $2) "
        "AND ($3::text IS NULL OR actor = $3) "
        "AND ($4::timestamptz IS NULL OR at >= $4) "
        "AND ($5::timestamptz IS NULL OR at < $5) "
        "AND ($6::bigint IS NULL OR seq < $6) "
        "ORDER BY seq DESC LIMIT $7",
        tenant,
        query.action,
        query.actor,
        query.since,
        query.until,
        query.before_seq,
        limit,
    )
    return [_entry(row) for row in rows]


def _entry(row: asyncpg.Record) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        tenant_id=row["tenant_id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        details=row["details"],
    )


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry to append later (a batch collects them): who did what in which tenant."""

    tenant: str
    actor: str
    entry: Planned


async def record_planned(
    conn: Connection, *, tenant: str, actor: str, entries: Iterable[Planned]
) -> None:
    """:func:`record` for each entry a domain rule planned (e.g. a provisioning's)."""
    await record_pending(conn, [Pending(tenant, actor, entry) for entry in entries])


async def record_pending(conn: Connection, pending: Sequence[Pending]) -> None:
    """Append many entries in one statement, in order."""
    if not pending:
        return
    await conn.execute(
        "INSERT INTO audit_log (tenant_id, actor, action, target, details) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[])",
        [p.tenant for p in pending],
        [p.actor for p in pending],
        [str(p.entry.action) for p in pending],
        [p.entry.target for p in pending],
        [dict(p.entry.details) for p in pending],
    )
