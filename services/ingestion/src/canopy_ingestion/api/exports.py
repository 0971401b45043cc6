"""HTTP route: a person's data export (GDPR art. 15 and 20; docs/architecture.md §16 "Export").

``GET /v1/users/{id}/export`` starts the export (or takes the person's recent one), waits up
to ``export_wait_s`` until every service's section is in, and answers the whole document as
a download (200); else 202 with ``Retry-After`` and a ``Location`` to ask again.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import CurrentPrincipal, Role
from canopy_common.exports import EXPORT_FORMAT, SECTIONS
from canopy_common.openapi import problems
from canopy_common.service import Runtime
from canopy_ingestion.adapters import exports
from canopy_ingestion.api.deps import (
    ID_MAX_LENGTH,
    CurrentRuntime,
    caller_transaction,
    transaction,
)
from canopy_ingestion.api.people import ME
from canopy_ingestion.domain.exports import ExportState, file_name
from canopy_ingestion.handlers.exports import (
    RequestExport,
    handle_deliver_export,
    handle_request_export,
)
from canopy_ingestion.settings import Settings

router = APIRouter(tags=["exports"])

# Sections usually follow within a second or two; a client asking sooner only costs a query.
RETRY_AFTER_S = 5
# Polling the export while waiting: quick at first, then at most twice a second.
_FIRST_POLL_S = 0.05
_LONGEST_POLL_S = 0.5

UserId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        description="The person whose data is exported (`me`: the caller)",
        examples=["u-ada"],
    ),
]

_AT = "2025-03-01T09:00:00Z"
_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": "0195f0c2-3b7e-7c1a-9f00-5a1d2c3b4e5f",
    "format": EXPORT_FORMAT,
    "tenant": "acme",
    "subject": "u-ada",
    "requested_by": "u-ada",
    "requested_at": _AT,
    "completed_at": "2025-03-01T09:00:01Z",
    "sections": {name: True for name in SECTIONS},
}


class ExportSummaryOut(BaseModel):
    """What the export is: whose, asked by whom and when, and which sections are in."""

    id: uuid.UUID
    format: str = Field(description=f"`{EXPORT_FORMAT}`")
    tenant: str
    subject: str = Field(description="Whose data it holds")
    requested_by: str = Field(description="The person themselves, or a tenant admin")
    requested_at: datetime
    completed_at: datetime | None = Field(description="When the last section came in")
    sections: dict[str, bool] = Field(description="Each service's section: in yet?")


class ExportDocumentOut(BaseModel):
    """Everything Canopy holds about the person, one section per service."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "export": _SUMMARY_EXAMPLE,
                    "sections": {
                        "ingestion": {
                            "service": "ingestion",
                            "generated_at": _AT,
                            "profile": {"id": "u-ada", "handle": "ada"},
                            "posts": [{"id": "urn:uuid:0195f0c2", "content": "Hello"}],
                            "reactions": [],
                        },
                        "fanout": {"service": "fanout", "generated_at": _AT, "markers": []},
                        "notify": {"service": "notify", "generated_at": _AT, "notifications": []},
                        "analytics": {"service": "analytics", "generated_at": _AT},
                    },
                }
            ]
        }
    )

    export: ExportSummaryOut
    sections: dict[str, dict[str, Any]] = Field(
        description="By service (ingestion, fanout, notify, analytics): `service`, "
        "`generated_at`, then what that service holds"
    )


class ExportPendingOut(BaseModel):
    """The export is under way: some services' sections are not in yet."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "export": {
                        **_SUMMARY_EXAMPLE,
                        "completed_at": None,
                        "sections": {name: name == "ingestion" for name in SECTIONS},
                    },
                    "retry_after_s": RETRY_AFTER_S,
                }
            ]
        }
    )

    export: ExportSummaryOut
    retry_after_s: int = Field(description="Ask again after this many seconds")


@router.get(
    "/v1/users/{user_id}/export",
    summary="Export everything Canopy holds about a person (GDPR)",
    description="The person themselves, or a tenant admin of their tenant (recorded in the "
    "audit log as `user.export`). One JSON document with a section from every service: "
    "profile, posts, reactions, follows, memberships, bookmarks, blocks and mutes "
    "(ingestion); feed read markers (fanout); notifications, preferences and notification "
    "mutes (notify); what analytics keeps. Each section names its service and when it was "
    "built. The person's newest export younger than `CANOPY_INGESTION_EXPORT_REUSE_S` is "
    "answered again; exports are deleted after `CANOPY_INGESTION_EXPORT_RETENTION_S`. "
    "200: the whole document as a download; 202: not every section is in yet, ask "
    "`Location` again after `Retry-After`. Someone the caller sees but may not export → 403; "
    "another tenant's, an erased or an invisible person → 404.",
    response_model=ExportDocumentOut,
    responses={
        200: {
            "description": "The whole export",
            "headers": {
                "Content-Disposition": {
                    "description": "`attachment` with a file name",
                    "schema": {"type": "string"},
                }
            },
        },
        202: {
            "model": ExportPendingOut,
            "description": "Under way: ask again",
            "headers": {
                "Location": {"description": "Where to ask again", "schema": {"type": "string"}},
                "Retry-After": {
                    "description": "Seconds to wait before asking again",
                    "schema": {"type": "integer", "minimum": 1},
                },
            },
        },
        **problems(403, 404),
    },
)
async def export_user(
    user_id: UserId, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Response:
    settings = runtime.settings
    async with caller_transaction(runtime, principal) as (conn, caller):
        command = RequestExport(
            subject_id=caller.id if user_id == ME else user_id,
            tenant_admin=principal.has_role(Role.TENANT_ADMIN),
            reuse_s=settings.export_reuse_s,
            retention_s=settings.export_retention_s,
            request_topic=settings.kafka.topic_exports,
        )
        state, exporter = await handle_request_export(command, conn=conn, caller=caller)
    if not state.complete and not await _completed_within(runtime, state, settings.export_wait_s):
        async with transaction(runtime, principal.tenant_id) as conn:
            state = await exports.state(conn, state.tenant_id, state.id) or state
        if not state.complete:
            return _pending(state, user_id)
    async with transaction(runtime, principal.tenant_id) as conn:
        whole = await handle_deliver_export(state, conn=conn, caller=caller, exporter=exporter)
    return Response(
        orjson.dumps(whole),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{file_name(state)}"',
            "Cache-Control": "no-store",
        },
    )


async def _completed_within(runtime: Runtime[Settings], state: ExportState, wait_s: float) -> bool:
    """Whether every section of the export is in within ``wait_s`` (polled)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    delay = _FIRST_POLL_S
    while (remaining := deadline - loop.time()) > 0:
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, _LONGEST_POLL_S)
        async with transaction(runtime, state.tenant_id) as conn:
            if await exports.completed(conn, state.tenant_id, state.id):
                return True
    return False


def _pending(state: ExportState, user_id: str) -> Response:
    body = {"export": state.summary(), "retry_after_s": RETRY_AFTER_S}
    return Response(
        orjson.dumps(body),
        status_code=status.HTTP_202_ACCEPTED,
        media_type="application/json",
        headers={
            "Location": f"/v1/users/{quote(user_id, safe='')}/export",
            "Retry-After": str(RETRY_AFTER_S),
            "Cache-Control": "no-store",
        },
    )
