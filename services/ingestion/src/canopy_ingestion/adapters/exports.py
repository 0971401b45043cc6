"""Exports in the ``ingestion`` schema (migration 0014; docs/architecture.md §16 "Export"):
the export rows, each service's section, the chunks of sections not yet whole, the request
queued in the outbox, and the purge. Runs in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from canopy_common.db import Connection
from canopy_common.exports import ExportPart, ExportRequest, encode_request, record_key
from canopy_common.tracing import current_traceparent
from canopy_ingestion.adapters import outbox
from canopy_ingestion.domain.exports import ExportState


async def lock_subject(conn: Connection, tenant_id: str, subject_id: str) -> None:
    """Serialise the exports of one person: two requests at once start one export."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"ingestion.exports:{tenant_id}:{subject_id}",  # tenant ids hold no ":"
    )


_STATE = """
SELECT e.tenant_id, e.id, e.subject_id, e.requested_by, e.requested_at, e.completed_at,
       coalesce(array_agg(s.service) FILTER (WHERE s.service IS NOT NULL), '{}') AS sections
FROM exports e
LEFT JOIN export_sections s ON s.tenant_id = e.tenant_id AND s.export_id = e.id
"""


def _state(row: asyncpg.Record) -> ExportState:
    return ExportState(
        tenant_id=row["tenant_id"],
        id=row["id"],
        subject_id=row["subject_id"],
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        completed_at=row["completed_at"],
        sections=frozenset(row["sections"]),
    )


async def newest(
    conn: Connection, tenant_id: str, subject_id: str, *, younger_than_s: float
) -> ExportState | None:
    """The person's newest export requested less than ``younger_than_s`` ago, if any."""
    row = await conn.fetchrow(
        _STATE + "WHERE e.id = ("
        "    SELECT id FROM exports WHERE tenant_id = $1 AND subject_id = $2"
        "    AND requested_at > now() - make_interval(secs => $3)"
        "    ORDER BY requested_at DESC LIMIT 1"
        ") AND e.tenant_id = $1 "
        "GROUP BY e.tenant_id, e.id",
        tenant_id,
        subject_id,
        younger_than_s,
    )
    return _state(row) if row is not None else None


async def state(conn: Connection, tenant_id: str, export_id: uuid.UUID) -> ExportState | None:
    """The export and the sections in so far."""
    row = await conn.fetchrow(
        _STATE + "WHERE e.tenant_id = $1 AND e.id = $2 GROUP BY e.tenant_id, e.id",
        tenant_id,
        export_id,
    )
    return _state(row) if row is not None else None


async def completed(conn: Connection, tenant_id: str, export_id: uuid.UUID) -> bool | None:
    """Whether every section of the export is in; None when there is no such export."""
    row = await conn.fetchrow(
        "SELECT completed_at IS NOT NULL AS done FROM exports WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        export_id,
    )
    return bool(row["done"]) if row is not None else None


async def create(
    conn: Connection, request: ExportRequest, *, requested_by: str, topic: str
) -> None:
    """Store a new export and queue its request to the other services for ``topic`` in the
    outbox: published after the commit, whether or not the broker answers now."""
    await conn.execute(
        "INSERT INTO exports (tenant_id, id, subject_id, requested_by, requested_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        request.tenant,
        request.id,
        request.subject,
        requested_by,
        request.requested_at,
    )
    traceparent = current_traceparent()
    row = outbox.OutboxRow(
        tenant_id=request.tenant,
        activity_id=f"urn:canopy:export:{request.id}",
        key=record_key(request.tenant, request.id),
        payload=encode_request(request),
        headers={"traceparent": traceparent} if traceparent else {},
        topic=topic,
    )
    await outbox.append_rows(conn, [row])


async def add_section(
    conn: Connection,
    tenant_id: str,
    export_id: uuid.UUID,
    service: str,
    *,
    generated_at: datetime,
    section: dict[str, Any],
    expected: int,
) -> bool:
    """Store ``service``'s section unless one is in already (a later build of it is
    dropped), and mark the export complete once ``expected`` sections are in; whether it
    was stored."""
    status = await conn.execute(
        "INSERT INTO export_sections (tenant_id, export_id, service, generated_at, section) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        tenant_id,
        export_id,
        service,
        generated_at,
        section,
    )
    if status != "INSERT 0 1":
        return False
    await conn.execute(
        "UPDATE exports SET completed_at = now() "
        "WHERE tenant_id = $1 AND id = $2 AND completed_at IS NULL "
        "AND (SELECT count(*) FROM export_sections WHERE tenant_id = $1 AND export_id = $2) >= $3",
        tenant_id,
        export_id,
        expected,
    )
    return True


async def sections(
    conn: Connection, tenant_id: str, export_id: uuid.UUID
) -> dict[str, dict[str, Any]]:
    """Every section of the export in so far, by service."""
    rows = await conn.fetch(
        "SELECT service, section FROM export_sections WHERE tenant_id = $1 AND export_id = $2",
        tenant_id,
        export_id,
    )
    return {row["service"]: row["section"] for row in rows}


async def lock_export(conn: Connection, tenant_id: str, export_id: uuid.UUID) -> str | None:
    """Lock the export row (parts of one export are stored one at a time) and return whose
    it is; None when there is no such export (purged, or erased with its person)."""
    subject: str | None = await conn.fetchval(
        "SELECT subject_id FROM exports WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        export_id,
    )
    return subject


async def has_section(conn: Connection, tenant_id: str, export_id: uuid.UUID, service: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM export_sections WHERE tenant_id = $1 AND export_id = $2 AND service = $3",
        tenant_id,
        export_id,
        service,
    )
    return found is not None


async def store_chunk(conn: Connection, part: ExportPart, data: bytes) -> list[bytes] | None:
    """Keep one chunk of a build; once the build is whole, take its chunks out and return
    them in order (None while some are missing). A chunk seen before changes nothing."""
    await conn.execute(
        "INSERT INTO export_chunks "
        "(tenant_id, export_id, service, part_id, chunk, chunks, data) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        part.tenant,
        part.export_id,
        part.service.value,
        part.part_id,
        part.chunk,
        part.chunks,
        data,
    )
    rows = await conn.fetch(
        "SELECT chunk, data FROM export_chunks "
        "WHERE tenant_id = $1 AND export_id = $2 AND service = $3 AND part_id = $4 "
        "AND chunks = $5 ORDER BY chunk",
        part.tenant,
        part.export_id,
        part.service.value,
        part.part_id,
        part.chunks,
    )
    if [row["chunk"] for row in rows] != list(range(part.chunks)):
        return None
    await conn.execute(
        "DELETE FROM export_chunks WHERE tenant_id = $1 AND export_id = $2 AND service = $3",
        part.tenant,
        part.export_id,
        part.service.value,
    )
    return [row["data"] for row in rows]


async def forget_subject(conn: Connection, tenant_id: str, subject_id: str) -> int:
    """Delete every export of the person (their erasure), sections and chunks with them."""
    status = await conn.execute(
        "DELETE FROM exports WHERE tenant_id = $1 AND subject_id = $2", tenant_id, subject_id
    )
    return int(status.split()[-1])


async def purge(conn: Connection, *, retention_s: float, limit: int) -> int:
    """Delete up to ``limit`` exports (of any tenant the transaction may touch) requested
    more than ``retention_s`` ago; how many went."""
    status = await conn.execute(
        "DELETE FROM exports WHERE (tenant_id, id) IN ("
        "    SELECT tenant_id, id FROM exports"
        "    WHERE requested_at < now() - make_interval(secs => $1)"
        "    LIMIT $2 FOR UPDATE SKIP LOCKED"
        ")",
        retention_s,
        limit,
    )
    return int(status.split()[-1])
