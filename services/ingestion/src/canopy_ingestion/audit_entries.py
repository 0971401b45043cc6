"""Recording the audit entries other processes publish on ``canopy.audit.v1``
(docs/architecture.md §14): a DLQ replay, an analytics export.

Each record is checked strictly (:func:`canopy_common.audit_events.decode_audit_event`; its
action must be an :class:`~canopy_common.audit_events.OutsideAction`) — anything else is
poison, which the consumer dead-letters with the reason. A valid entry is recorded once per
entry id, in a transaction scoped to the entry's tenant (row-level security, §15).
"""

from __future__ import annotations

import asyncpg
import structlog

from canopy_common.audit_events import AuditEvent, InvalidAuditEvent, decode_audit_event
from canopy_common.consuming import ConsumedRecord, Handler
from canopy_common.inbox import first_delivery
from canopy_common.row_security import scope_to_tenant
from canopy_ingestion.adapters import audit
from canopy_ingestion.domain.audit import AuditAction

log = structlog.get_logger(__name__)


def inbox_id(entry: AuditEvent) -> str:
    """The entry's id in ``consumed_activities``: a namespace of its own, so no upstream
    activity id can stand for (and so suppress) an audit entry."""
    return f"urn:canopy:audit:{entry.id}"


async def record_entry(pool: asyncpg.Pool, record: ConsumedRecord) -> bool:
    """Record the entry in ``record`` in its tenant's audit log; False for a redelivery."""
    entry = decode_audit_event(record.value)
    if record.key != entry.tenant.encode():
        # Keyed by its tenant, always: another key says the producer is not ours.
        raise InvalidAuditEvent(f"an audit entry of tenant {entry.tenant!r} keyed otherwise")
    async with pool.acquire() as conn, conn.transaction():
        await scope_to_tenant(conn, entry.tenant)
        if not await first_delivery(conn, entry.tenant, inbox_id(entry)):
            log.debug("duplicate audit entry skipped", tenant=entry.tenant, entry=str(entry.id))
            return False
        await audit.record(
            conn,
            tenant=entry.tenant,
            actor=entry.actor,
            action=AuditAction(entry.action),
            target=entry.target,
            details=entry.details,
            at=entry.at,
        )
    log.debug("audit entry recorded", tenant=entry.tenant, action=str(entry.action))
    return True


def audit_entry_handler(pool: asyncpg.Pool) -> Handler:
    """The consumer handler of ``canopy.audit.v1`` (see :func:`record_entry`)."""

    async def handle(record: ConsumedRecord) -> None:
        await record_entry(pool, record)

    return handle
