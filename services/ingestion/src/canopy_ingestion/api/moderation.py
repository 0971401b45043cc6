"""HTTP routes: the moderation queue and decisions (docs/architecture.md §4.5), for moderators.

``GET /v1/moderation/flags`` answers cases — a post's open flags together, or the flags one
decision resolved — oldest first, in pages (``limit``, an opaque ``cursor``, a ``Link`` header
to the next page). ``POST /v1/moderation/flags/{id}/resolve`` decides a case.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import Principal, Role, require_roles
from canopy_common.openapi import problems
from canopy_ingestion.adapters import moderation as store
from canopy_ingestion.api.deps import (
    CURSOR_MAX_LENGTH,
    ID_MAX_LENGTH,
    CurrentActor,
    CurrentRuntime,
    IdempotencyKey,
    once,
    transaction,
)
from canopy_ingestion.domain.moderation import (
    MAX_NOTE_CHARS,
    CaseStatus,
    Resolution,
    decode_cursor,
    encode_cursor,
)
from canopy_ingestion.handlers import moderation as handlers

router = APIRouter(prefix="/v1/moderation", tags=["moderation"])

# The token's role, as for reading and deleting any post (docs/architecture.md §8).
Moderator = Annotated[Principal, Depends(require_roles(Role.MODERATOR))]
PAGE_MAX = 100


class Reporter(BaseModel):
    user: str
    reason: str
    at: str


class FlaggedPost(BaseModel):
    id: str
    content: str
    author: str
    visibility: str
    group_id: str | None
    deleted: bool


class Decision(BaseModel):
    action: Literal["dismiss", "remove", "warn"]
    note: str | None
    by: str | None = None
    at: str | None = None
    decision_id: str | None = None


class Case(BaseModel):
    id: str = Field(description="The case's first flag: what `resolve` takes")
    post: FlaggedPost
    reporters: list[Reporter] = Field(description="People's reports, oldest first")
    raised_by_policy: bool = Field(description="The content policy flagged the post too")
    status: Literal["open", "resolved"]
    resolution: Decision | None


class CasePage(BaseModel):
    items: list[Case]
    next_cursor: str | None


class ResolveBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"action": "warn", "note": "Keep customer data out"}]},
    )

    action: Resolution
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)


class Resolved(BaseModel):
    id: str
    post_id: str
    status: Literal["resolved"]
    resolution: Decision
    flags: list[str]
    reporters: list[str]
    decision_id: str
    post_deleted: bool


@router.get(
    "/flags",
    response_model=CasePage,
    responses=problems(403, 422),
    summary="The moderation queue",
    description="Role `moderator`. Flags grouped per post: `open` (default) are a post's "
    "undecided flags, `resolved` the flags each decision resolved; oldest first. Pages with "
    '`limit` (at most 100), `cursor` and a `Link: <...>; rel="next"` header.',
)
async def list_flags(
    request: Request,
    moderator: Moderator,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    status: Annotated[CaseStatus, Query(description="open or resolved")] = CaseStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=CURSOR_MAX_LENGTH, description="`next_cursor` of the last page"),
    ] = None,
) -> Response:
    after = decode_cursor(cursor) if cursor else None
    async with transaction(runtime, actor.tenant_id) as conn:
        found = await store.cases(conn, actor.tenant_id, status, after=after, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    next_cursor = encode_cursor(store.position_of(page[-1])) if more else None
    headers = {}
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor, limit=limit)
        headers["Link"] = f'<{url}>; rel="next"'
    body: dict[str, Any] = {"items": [case.as_json() for case in page], "next_cursor": next_cursor}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


@router.post(
    "/flags/{flag_id}/resolve",
    response_model=Resolved,
    responses=problems(403, 404, 409, 422),
    summary="Decide a case",
    description="Role `moderator`. Resolves every open flag of the post the flag is about: "
    "`dismiss` leaves the post, `remove` deletes it (a `Delete` of its `Tombstone`, as "
    "`DELETE /v1/posts/{id}`), `warn` records a warning for its author. Publishes one `Update` "
    "of the `Flag` (its `status` dismissed, removed or warned; the note as `content`) to the "
    "reporters and, unless dismissed, the author, and writes an audit entry. A resolved "
    "flag: 409; none in your tenant: 404.",
)
async def resolve_flag(
    flag_id: Annotated[str, Path(max_length=ID_MAX_LENGTH, description="A flag of the case")],
    body: ResolveBody,
    request: Request,
    moderator: Moderator,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    key: IdempotencyKey = None,
) -> Response:
    return await once(
        request,
        runtime,
        actor,
        key,
        body,
        lambda conn: handlers.resolve(flag_id, body.action, body.note, conn=conn, moderator=actor),
    )
