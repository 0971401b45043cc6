"""Storing the sections other services publish for a person's export on
``canopy.export-parts.v1`` (docs/architecture.md §16 "Export").

Each record is checked strictly (:func:`canopy_common.exports.decode_part`: its key, its
chunk numbers, base64 data); anything else is poison, which the consumer dead-letters with the
reason. A chunk is stored in a transaction scoped to the export's tenant (§15); when one build
of a section is whole its chunks are joined into the section, and the export is complete once
every service's section is in. The first whole build of a section wins; chunks of an export
that is gone (purged, or erased with its person) are dropped.
"""

from __future__ import annotations

import asyncpg
import structlog

from canopy_common.consuming import ConsumedRecord, Handler
from canopy_common.exports import (
    SECTIONS,
    InvalidExportRecord,
    chunk_bytes,
    decode_part,
    joined_section,
)
from canopy_common.row_security import scope_to_tenant
from canopy_ingestion.adapters import exports

log = structlog.get_logger(__name__)


async def store_part(pool: asyncpg.Pool, record: ConsumedRecord) -> bool:
    """Store the chunk in ``record``; True when it completed its section."""
    part = decode_part(record.key, record.value)
    data = chunk_bytes(part)
    tenant, export_id, service = part.tenant, part.export_id, part.service.value
    context = {"tenant": tenant, "export": str(export_id), "service": service}
    async with pool.acquire() as conn, conn.transaction():
        await scope_to_tenant(conn, tenant)
        subject = await exports.lock_export(conn, tenant, export_id)
        if subject is None:
            log.info("export part of an export that is gone, dropped", **context)
            return False
        if subject != part.subject:
            raise InvalidExportRecord(f"a part for {part.subject!r} of an export of another")
        if await exports.has_section(conn, tenant, export_id, service):
            log.debug("export part of a section already in, dropped", **context)
            return False
        chunks = await exports.store_chunk(conn, part, data)
        if chunks is None:
            return False
        section = joined_section(chunks)
        await exports.add_section(
            conn,
            tenant,
            export_id,
            service,
            generated_at=part.generated_at,
            section=section,
            expected=len(SECTIONS),
        )
    log.info("export section stored", chunks=part.chunks, **context)
    return True


def export_part_handler(pool: asyncpg.Pool) -> Handler:
    """The consumer handler of ``canopy.export-parts.v1`` (see :func:`store_part`)."""

    async def handle(record: ConsumedRecord) -> None:
        await store_part(pool, record)

    return handle
