"""HTTP routes: the caller's direct conversations and their read state (docs/architecture.md
§16). Private: nothing is published."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import CurrentPrincipal
from canopy_common.db import Connection
from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, Page
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.adapters.people import Caller
from canopy_ingestion.api.deps import (
    ID_MAX_LENGTH,
    CurrentRuntime,
    IdempotencyKey,
    caller_transaction,
    once_as,
    reply_response,
)
from canopy_ingestion.api.paged import page_response
from canopy_ingestion.api.people import PersonRefOut
from canopy_ingestion.api.post_schemas import POST_ID_EXAMPLE, PostDocument
from canopy_ingestion.handlers import conversations as handlers
from canopy_ingestion.handlers.conversations import ConversationView

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

ThreadId = Annotated[
    str,
    Path(
        max_length=ID_MAX_LENGTH,
        description="The conversation's id: the id of its first post (`context` of its posts)",
        examples=[POST_ID_EXAMPLE],
    ),
]

_EXAMPLE: dict[str, Any] = {
    "id": POST_ID_EXAMPLE,
    "participants": [
        {
            "id": "u-grace",
            "handle": "grace",
            "display_name": "Grace Hopper",
            "title": "Engineer",
            "active": True,
        }
    ],
    "last_post": {
        "@context": ["https://www.w3.org/ns/activitystreams", {"canopy": "…"}],
        "type": "Note",
        "id": "urn:uuid:01968a4f-0000-7d2e-9f10-2a3b4c5d6e7f",
        "kind": "note",
        "attributedTo": {"type": "Person", "id": "urn:canopy:acme:user:u-grace"},
        "content": "Lunch at noon?",
        "mediaType": "text/markdown",
        "visibility": "direct",
        "to": ["urn:canopy:acme:user:u-ada"],
        "context": POST_ID_EXAMPLE,
        "published": "2025-05-01T11:58:00+00:00",
        "reactions": {},
        "my_reactions": [],
        "replies_count": 0,
        "bookmarked": False,
    },
    "last_activity_at": "2025-05-01T11:58:00+00:00",
    "unread": True,
    "unread_count": 1,
    "last_read_id": None,
}


class ConversationOut(BaseModel):
    """A thread of direct posts as you have it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str = Field(description="The thread's id: its first post's")
    participants: list[PersonRefOut] = Field(
        description="Everyone who wrote in it, was addressed or was mentioned, but you; by name"
    )
    last_post: PostDocument = Field(description="Its newest message you see, as you read it")
    last_activity_at: datetime = Field(description="When that message was written")
    unread: bool = Field(description="Whether someone else wrote since you last read it")
    unread_count: int = Field(ge=0, description="Messages of others since you last read it")
    last_read_id: str | None = Field(
        description="The last message you marked read (null: none); writing a message reads "
        "what came before it too"
    )


class ConversationsPageOut(Page[ConversationOut]):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_EXAMPLE], "next_cursor": None}]}
    )


class MarkReadBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"up_to": POST_ID_EXAMPLE}]}
    )

    up_to: str | None = Field(
        None,
        max_length=ID_MAX_LENGTH,
        description="A message of the conversation: read up to and with it (default: its "
        "newest you see)",
    )


def _json(view: ConversationView) -> dict[str, Any]:
    return {
        "id": view.id,
        "participants": [PersonRefOut.of(user).model_dump() for user in view.participants],
        "last_post": view.last_post,
        "last_activity_at": view.last_activity_at.isoformat(),
        "unread": view.unread,
        "unread_count": view.unread_count,
        "last_read_id": view.last_read_id,
    }


@router.get(
    "",
    response_model=ConversationsPageOut,
    responses=problems(400),
    summary="Your direct conversations",
    description="Threads of direct posts you wrote in, were addressed or were mentioned in, "
    "newest activity first: each with its participants, its newest message you see (as "
    "`GET /v1/posts/{id}` answers it) and whether someone else wrote since you last read it. "
    "Messages of people you blocked or who blocked you are left out; tasks and events that "
    "upstream systems assign are not messages. Read the messages with "
    '`GET /v1/posts/{id}/context`. Pages: `limit`, `cursor`, `Link: <...>; rel="next"`; a '
    "cursor this API did not give out: 400.",
)
async def list_conversations(
    request: Request,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> Response:
    async with caller_transaction(runtime, principal) as (conn, actor):
        page = await handlers.list_conversations(conn=conn, actor=actor, limit=limit, cursor=cursor)
    items = [_json(view) for view in page.items]
    return page_response(request, Page(items=items, next_cursor=page.next_cursor), limit)


@router.get(
    "/{thread_id}",
    response_model=ConversationOut,
    responses=problems(404),
    summary="One of your direct conversations",
    description="As `GET /v1/conversations` lists it. A thread that is not your conversation "
    "(another tenant's, one you are not in, not direct): 404.",
)
async def read_conversation(
    thread_id: ThreadId, runtime: CurrentRuntime, principal: CurrentPrincipal
) -> Response:
    async with caller_transaction(runtime, principal) as (conn, actor):
        view = await handlers.read_conversation(thread_id, conn=conn, actor=actor)
    return reply_response(Reply(200, _json(view)))


@router.post(
    "/{thread_id}/read",
    response_model=ConversationOut,
    responses=problems(404, 422),
    summary="Mark a conversation read",
    description="Read up to `up_to` (default: the newest message you see). Your position only "
    "moves forward: marking an older message, or marking again, changes nothing (nothing is "
    "published either). Answers the conversation. A thread that is not your conversation: "
    "404; an `up_to` that is no message of it you see: 422.",
)
async def mark_read(
    thread_id: ThreadId,
    request: Request,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    body: MarkReadBody | None = None,
    key: IdempotencyKey = None,
) -> Response:
    up_to = body.up_to if body is not None else None

    async def run(conn: Connection, caller: Caller) -> Reply:
        view = await handlers.mark_read(thread_id, up_to, conn=conn, actor=caller.user)
        return Reply(200, _json(view))

    return await once_as(request, runtime, principal, key, body, run)
