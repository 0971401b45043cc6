"""A person's data export (docs/architecture.md §16 "Export"): start one (or take the recent
one), and hand over the whole document, audited when a tenant admin takes someone else's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import NotFound
from canopy_common.exports import SECTIONS, new_request
from canopy_ingestion.adapters import audit, exports, people
from canopy_ingestion.adapters.export_section import ingestion_section
from canopy_ingestion.domain.audit import AuditAction
from canopy_ingestion.domain.exports import (
    OWN_SECTION,
    Exporter,
    ExportState,
    document,
    exporter_of,
    refusal,
)
from canopy_ingestion.domain.model import User
from canopy_ingestion.handlers.people import find_visible_person


@dataclass(frozen=True)
class RequestExport:
    subject_id: str
    tenant_admin: bool  # the caller's token holds tenant_admin
    reuse_s: float  # the person's newest export younger than this is taken again
    retention_s: float
    request_topic: str


async def handle_request_export(
    cmd: RequestExport, *, conn: Connection, caller: User
) -> tuple[ExportState, Exporter]:
    """The export of ``cmd.subject_id`` the caller gets: their newest one if recent, else a
    new one — its row, ingestion's own section, and the request to the other services in the
    outbox, all in the caller's transaction.

    Raises :class:`NotFound` for someone the caller does not see (another tenant's id, an
    erased person), :class:`Forbidden` for someone they see but may not export. A tenant
    admin may export a deactivated person (a leaver) too.
    """
    tenant = caller.tenant_id
    exporter = exporter_of(caller, cmd.subject_id, tenant_admin=cmd.tenant_admin)
    if exporter is None:
        # 404 for whoever they cannot see, a former colleague's profile included.
        await find_visible_person(conn, caller, cmd.subject_id, former=True)
        raise refusal(cmd.subject_id)
    subject = await people.get_user(conn, tenant, cmd.subject_id)
    # A leaver's data is still theirs to ask for (through a tenant admin); erasure left none.
    if subject is None or not (subject.active or subject.is_former):
        raise NotFound(f"no person {cmd.subject_id!r} in this tenant")
    await exports.lock_subject(conn, tenant, subject.id)
    found = await exports.newest(conn, tenant, subject.id, younger_than_s=cmd.reuse_s)
    if found is not None:
        return found, exporter
    request = new_request(tenant, subject.id, retention_s=cmd.retention_s)
    await exports.create(conn, request, requested_by=caller.id, topic=cmd.request_topic)
    section = await ingestion_section(conn, request)
    await exports.add_section(
        conn,
        tenant,
        request.id,
        OWN_SECTION,
        generated_at=request.requested_at,
        section={"service": OWN_SECTION, "generated_at": request.requested_at, **section},
        expected=len(SECTIONS),
    )
    state = await exports.state(conn, tenant, request.id)
    assert state is not None  # just written in this transaction
    return state, exporter


async def handle_deliver_export(
    state: ExportState, *, conn: Connection, caller: User, exporter: Exporter
) -> dict[str, Any]:
    """The whole export as one document; a tenant admin taking someone else's is recorded
    in the audit log first (§14), in this transaction."""
    fresh = await exports.state(conn, state.tenant_id, state.id)
    if fresh is None:  # purged, or the person was erased meanwhile
        raise NotFound(f"no export of {state.subject_id!r} any more")
    if exporter is Exporter.TENANT_ADMIN:
        await audit.record(
            conn,
            tenant=state.tenant_id,
            actor=caller.id,
            action=AuditAction.USER_EXPORT,
            target=state.subject_id,
            details={"export": str(state.id), "requested_at": state.requested_at.isoformat()},
        )
    return document(fresh, await exports.sections(conn, state.tenant_id, state.id))
