"""HTTP routes: the audit log (docs/architecture.md §14), for tenant admins.

``GET /v1/audit`` answers the tenant's entries newest first, filtered by action, actor and
time, in pages (``limit``, an opaque ``cursor``, a ``Link`` header to the next page), or the
whole filtered log as CSV (``Accept: text/csv`` or ``format=csv``), streamed in batches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from canopy_common.auth import Principal, Role, require_roles
from canopy_common.errors import InvalidInput
from canopy_common.openapi import problems
from canopy_ingestion.adapters import audit
from canopy_ingestion.api.deps import CurrentRuntime, transaction
from canopy_ingestion.domain.audit import (
    AuditAction,
    AuditQuery,
    csv_header,
    csv_line,
    decode_cursor,
    encode_cursor,
)

router = APIRouter(tags=["audit"])

TenantAdmin = Annotated[Principal, Depends(require_roles(Role.TENANT_ADMIN))]
PAGE_MAX = 100
# Rows per query of a CSV export: big enough that a long export is a few hundred queries,
# small enough that one batch is a bounded amount of memory.
CSV_BATCH = 1000
CSV_MEDIA_TYPE = "text/csv"


@router.get(
    "/v1/audit",
    summary="The tenant's audit log",
    description="Role `tenant_admin`. Privileged actions (provisioning, roles, erasure, admin "
    "deletions, moderation decisions, policy changes, analytics CSV exports, DLQ replays) "
    "newest first. Filters: `action`, `actor` (a user id, `platform:<name>` or "
    "`operator:<login>`), `since` (inclusive) and "
    "`until` (exclusive), timestamps with a time zone. JSON pages `{items, next_cursor}` with "
    'a `Link: <...>; rel="next"` header; with `Accept: text/csv` or `format=csv`, every '
    "matching entry as one CSV (`at,actor,action,target,details`), streamed.",
    responses={
        200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}},
        **problems(403, 422),
    },
)
async def read_audit_log(
    request: Request,
    admin: TenantAdmin,
    runtime: CurrentRuntime,
    action: Annotated[
        str | None, Query(description="One action, e.g. user.erase", examples=["user.roles"])
    ] = None,
    actor: Annotated[str | None, Query(max_length=300, description="Who acted")] = None,
    since: Annotated[datetime | None, Query(description="From this time on")] = None,
    until: Annotated[datetime | None, Query(description="Before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the last page")
    ] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="csv: as CSV")] = None,
) -> Response:
    query = AuditQuery(
        action=_known_action(action),
        actor=actor,
        since=_aware("since", since),
        until=_aware("until", until),
        before_seq=decode_cursor(cursor) if cursor else None,
    )
    if query.since and query.until and query.since >= query.until:
        raise InvalidInput("since: must be before until", extra={"field": "since"})
    tenant = admin.tenant_id
    if format == "csv" or (format is None and _accepts_csv(request.headers.get("accept"))):
        return await _csv(runtime, tenant, query)
    async with transaction(runtime, tenant) as conn:
        found = await audit.read(conn, tenant, query, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    next_cursor = encode_cursor(page[-1].seq) if more else None
    headers = {}
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor, limit=limit)
        headers["Link"] = f'<{url}>; rel="next"'
    body: dict[str, Any] = {
        "items": [entry.as_json() for entry in page],
        "next_cursor": next_cursor,
    }
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


async def _csv(runtime: CurrentRuntime, tenant: str, query: AuditQuery) -> Response:
    # The first batch is read before the response starts, so an outage is still a 503; a
    # later batch failing cuts the stream short (the client sees an incomplete transfer).
    async with transaction(runtime, tenant) as conn:
        first = await audit.read(conn, tenant, query, limit=CSV_BATCH)

    async def lines() -> AsyncIterator[str]:
        yield csv_header()
        batch = first
        while batch:
            yield "".join(csv_line(entry) for entry in batch)
            if len(batch) < CSV_BATCH:
                return
            after = replace(query, before_seq=batch[-1].seq)
            async with transaction(runtime, tenant) as conn:
                batch = await audit.read(conn, tenant, after, limit=CSV_BATCH)

    return StreamingResponse(
        lines(),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{tenant}.csv"'},
    )


def _known_action(action: str | None) -> str | None:
    if action is None or action in AuditAction._value2member_map_:
        return action
    known = ", ".join(sorted(a.value for a in AuditAction))
    raise InvalidInput(f"action: {action!r} is not one of {known}", extra={"field": "action"})


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(
            f"{name}: needs a time zone, like 2026-01-31T00:00:00Z", extra={"field": name}
        )
    return value


def _accepts_csv(accept: str | None) -> bool:
    """Whether ``Accept`` asks for CSV before (or instead of) JSON."""
    for media in (part.split(";")[0].strip().lower() for part in (accept or "").split(",")):
        if media == CSV_MEDIA_TYPE:
            return True
        if media in ("application/json", "application/*"):
            return False
    return False
