"""HTTP routes: a group's pinned posts (its featured collection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, Page, next_link
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.api.deps import CurrentActor, CurrentRuntime, reply_response, transaction
from canopy_ingestion.api.groups import GroupId
from canopy_ingestion.api.post_schemas import POST_ID_EXAMPLE, PostDocument, PostId
from canopy_ingestion.domain.pins import MAX_PINS
from canopy_ingestion.handlers import pins

router = APIRouter(tags=["groups"])


class PinOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_id": "urn:uuid:0190f3c2-7b1e-7c3a-9f3e-5d2a8b1c4e6f",
                    "post_id": POST_ID_EXAMPLE,
                    "pinned_by": "u-ada",
                    "pinned_at": "2024-07-01T12:00:00Z",
                }
            ]
        }
    )

    group_id: str
    post_id: str
    pinned_by: str
    pinned_at: datetime


class PinnedPostOut(BaseModel):
    """A pinned post: the post as AS2, who pinned it and when."""

    post: PostDocument
    pinned_by: str = Field(description="The admin or owner who pinned it")
    pinned_at: datetime


@router.put(
    "/v1/groups/{group_id}/pins/{post_id}",
    summary="Pin a post in a group",
    description=f"The group's admins and owners pin the first post of one of its threads "
    f"(a reply → 422), at most {MAX_PINS} per group (more → 409 `pin-limit`: unpin one "
    "first); an archived group takes no pins (409). Emits an Add of the post to the group's "
    "featured collection (`<group id>/featured`). 201 when pinned now, 200 when it was. "
    "Other members → 403; a group or post the caller may not see, or a post of another "
    "group → 404.",
    status_code=status.HTTP_201_CREATED,
    response_model=PinOut,
    responses={200: {"model": PinOut, "description": "Pinned already"}, **problems(403, 404, 409)},
)
async def pin_post(
    group_id: GroupId, post_id: PostId, actor: CurrentActor, runtime: CurrentRuntime
) -> Response:
    async with transaction(runtime, actor.tenant_id) as conn:
        pinned = await pins.pin(group_id, post_id, conn=conn, actor=actor)
    body = PinOut(
        group_id=pinned.group_id,
        post_id=pinned.post_id,
        pinned_by=pinned.pinned_by,
        pinned_at=pinned.pinned_at,
    )
    code = status.HTTP_201_CREATED if pinned.created else status.HTTP_200_OK
    return reply_response(Reply(code, body.model_dump(mode="json")))


@router.delete(
    "/v1/groups/{group_id}/pins/{post_id}",
    summary="Unpin a post",
    description="The group's admins and owners (others → 403). Emits a Remove of the post "
    "from the group's featured collection. Not pinned there → 404.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409),
)
async def unpin_post(
    group_id: GroupId, post_id: PostId, actor: CurrentActor, runtime: CurrentRuntime
) -> None:
    async with transaction(runtime, actor.tenant_id) as conn:
        await pins.unpin(group_id, post_id, conn=conn, actor=actor)


@router.get(
    "/v1/groups/{group_id}/pins",
    summary="A group's pinned posts",
    description="The pinned posts the caller may see, newest pin first. A group the caller "
    "may not see → 404. The group feed (fanout, `GET /v1/feeds/groups/{id}?pinned=first`) "
    "shows them above its first page. Paged: `limit`, `cursor`, a `Link` header.",
    response_model=Page[PinnedPostOut],
    responses=problems(400, 404),
)
async def list_pins(
    group_id: GroupId,
    request: Request,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> Response:
    async with transaction(runtime, actor.tenant_id) as conn:
        page = await pins.list_pins(group_id, conn=conn, actor=actor, limit=limit, cursor=cursor)
    items: list[dict[str, Any]] = [
        {"post": doc, "pinned_by": row.pinned_by, "pinned_at": row.pinned_at.isoformat()}
        for doc, row in page.items
    ]
    # The posts are AS2 documents already (as GET /v1/posts/{id} answers them): sent as built.
    body = orjson.dumps({"items": items, "next_cursor": page.next_cursor})
    headers = next_link(request, page.next_cursor, limit)
    return Response(body, media_type="application/json", headers=headers)
