"""One way to answer every analytics route: JSON by default, CSV when the client asks for it
with ``Accept: text/csv`` (issue 6: "every table also as CSV"). The table's rows and columns
are the response model's (:class:`~canopy_analytics.domain.tables.Table`).

Every CSV answer is an export, recorded in the tenant's audit log as ``analytics.export``
(docs/architecture.md §14) before it is sent: a file leaves Canopy's access control (it is
saved, mailed, shared), whatever its rows are — aggregates of a small group or one post's
reach say things about people too, and deciding per table which ones are "people-level" would
be one more rule to drift. JSON answers, what the app shows on screen, are not recorded.
An entry that cannot be published refuses the export (503): none goes out unrecorded."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import Request, Response

from canopy_analytics.bootstrap import Collaborators
from canopy_analytics.domain.tables import Table, render_csv
from canopy_common.audit_events import OutsideAction, audit_event, publish_audit_events
from canopy_common.auth import Principal
from canopy_common.service import collaborators_of

CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
# Media ranges that would take JSON: everything but an explicit text/csv.
_JSON_RANGES = frozenset({JSON_MEDIA_TYPE, "application/*", "*/*"})
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")

CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON; with `Accept: text/csv`, the same table as CSV (UTF-8, header "
        "row first; nested fields as dotted columns, lists joined with '; ')",
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


def _quality(accept: str, media: frozenset[str]) -> float:
    """The highest q the Accept header gives any of ``media`` (0 when none)."""
    best = 0.0
    for part in accept.split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        if kind.lower() not in media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_csv(accept: str | None) -> bool:
    """Whether the client prefers CSV: text/csv named and not ranked below JSON."""
    if not accept:
        return False
    csv_q = _quality(accept, frozenset({CSV_MEDIA_TYPE}))
    return csv_q > 0 and csv_q >= _quality(accept, _JSON_RANGES)


async def respond(
    request: Request, principal: Principal, table: Table, *, filename: str
) -> Response:
    """``table`` as JSON, or as a CSV attachment named ``filename``.csv, recorded as an
    export by ``principal`` (see the module's docstring)."""
    headers = {"Vary": "Accept"}
    if wants_csv(request.headers.get("accept")):
        safe = _UNSAFE_FILENAME.sub("-", filename).strip("-") or "analytics"
        body = render_csv(table).encode("utf-8")
        await _audit_export(request, principal, file=f"{safe}.csv", rows=len(table.csv_rows()))
        headers["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
        return Response(
            body,
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers=headers,
        )
    return Response(
        orjson.dumps(table.model_dump(mode="json")), media_type=JSON_MEDIA_TYPE, headers=headers
    )


async def _audit_export(request: Request, principal: Principal, *, file: str, rows: int) -> None:
    runtime = collaborators_of(request, Collaborators).runtime
    entry = audit_event(
        tenant=principal.tenant_id,
        actor=principal.user_id,
        action=OutsideAction.ANALYTICS_EXPORT,
        target=request.url.path,
        # The query says which report (period, metric, topic...); counts, no rows' values.
        details={"file": file, "rows": rows, "query": dict(request.query_params)},
    )
    await publish_audit_events(runtime.producer, runtime.settings.kafka.topic_audit, [entry])
