"""HTTP routes: a group's pending join requests (asked for with ``PUT .../members/{me}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.openapi import problems
from canopy_ingestion.api.deps import (
    CURSOR_MAX_LENGTH,
    ID_MAX_LENGTH,
    CurrentActor,
    CurrentRuntime,
    transaction,
)
from canopy_ingestion.domain.model import JoinRequest
from canopy_ingestion.handlers.join_requests import (
    EndJoinRequest,
    ListJoinRequests,
    handle_end_join_request,
    handle_list_join_requests,
)

router = APIRouter(tags=["groups"])

# Admins page through requests; a page this big is one screen of them.
JOIN_REQUESTS_PAGE_MAX = 100

GroupId = Annotated[
    str,
    Path(max_length=ID_MAX_LENGTH, description="The group's id", examples=["urn:uuid:0190..."]),
]
RequesterId = Annotated[
    str, Path(max_length=ID_MAX_LENGTH, description="Who asked to join", examples=["u-bob"])
]


class JoinRequestOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_id": "urn:uuid:0190...",
                    "user_id": "u-bob",
                    "status": "pending",
                    "requested_at": "2024-07-01T12:00:00Z",
                }
            ]
        }
    )

    group_id: str
    user_id: str = Field(description="Who asked to join")
    status: Literal["pending"] = Field(description="Waiting for an admin or owner")
    requested_at: datetime

    @classmethod
    def of(cls, request: JoinRequest) -> JoinRequestOut:
        return cls(
            group_id=request.group_id,
            user_id=request.requester_id,
            status="pending",
            requested_at=request.created_at,
        )


class JoinRequestPageOut(BaseModel):
    items: list[JoinRequestOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


@router.get(
    "/v1/groups/{group_id}/join-requests",
    summary="List a group's pending join requests",
    description="The group's admins and owners only (anyone else who sees the group → 403; "
    "a group the caller cannot see → 404). Oldest first. Approve one by adding the person "
    "(`PUT /v1/groups/{group_id}/members/{user_id}`), decline it with `DELETE`.",
    response_model=JoinRequestPageOut,
    responses=problems(403, 404, 422),
)
async def list_join_requests(
    group_id: GroupId,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    limit: Annotated[int, Query(ge=1, le=JOIN_REQUESTS_PAGE_MAX)] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=CURSOR_MAX_LENGTH, description="`next_cursor` of the last page"),
    ] = None,
) -> JoinRequestPageOut:
    query = ListJoinRequests(group_id=group_id, limit=limit, cursor=cursor)
    async with transaction(runtime, actor.tenant_id) as conn:
        page = await handle_list_join_requests(query, conn=conn, actor=actor)
    return JoinRequestPageOut(
        items=[JoinRequestOut.of(r) for r in page.requests], next_cursor=page.next_cursor
    )


@router.delete(
    "/v1/groups/{group_id}/join-requests/{user_id}",
    summary="Decline or withdraw a join request",
    description="An admin or owner declines someone's request (emits a Reject of the pending "
    "Join, to the requester); the requester withdraws their own (emits an Undo of it). "
    "Someone else's request, for anyone else → 403; no pending request from that person → "
    "404; a group the caller cannot see → 404.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404),
)
async def delete_join_request(
    group_id: GroupId, user_id: RequesterId, actor: CurrentActor, runtime: CurrentRuntime
) -> None:
    async with transaction(runtime, actor.tenant_id) as conn:
        await handle_end_join_request(
            EndJoinRequest(group_id=group_id, user_id=user_id), conn=conn, actor=actor
        )
