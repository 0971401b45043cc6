"""HTTP routes: the social graph (follows, tag follows, blocks, mutes).

``PUT`` creates the relation (201) or finds it already there (200, nothing emitted);
``DELETE`` ends it (204) or answers 404 when there is none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict

from canopy_common.db import Connection
from canopy_common.openapi import problems
from canopy_ingestion.api.deps import ID_MAX_LENGTH, CurrentActor, CurrentRuntime, transaction
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.text import HASHTAG_MAX_LENGTH
from canopy_ingestion.handlers import graph
from canopy_ingestion.handlers.graph import RelationResult

router = APIRouter(tags=["graph"])

UserId = Annotated[
    str,
    Path(max_length=ID_MAX_LENGTH, description="The other person's user id", examples=["u-ada"]),
]
Tag = Annotated[
    str,
    Path(
        max_length=HASHTAG_MAX_LENGTH + 1,  # and its '#'
        description="A hashtag, with or without '#', any case",
        examples=["release"],
    ),
]


class RelationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"target": "u-ada", "since": "2025-01-31T09:00:00Z"}]}
    )

    target: str  # the person's id, or the hashtag (lower-case, without '#')
    since: datetime


_PUT_RESPONSES = {
    201: {"model": RelationOut, "description": "Created"},
    **problems(403, 404, 409, 422),
}
_DELETE_RESPONSES = problems(403, 404)

Put = Callable[..., Awaitable[RelationResult]]
Delete = Callable[..., Awaitable[None]]


async def _put(
    handler: Put, target: str, actor: User, runtime: CurrentRuntime, response: Response
) -> RelationOut:
    conn: Connection
    async with transaction(runtime, actor.tenant_id) as conn:
        result = await handler(target, conn=conn, actor=actor)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return RelationOut(target=result.target, since=result.since)


async def _delete(handler: Delete, target: str, actor: User, runtime: CurrentRuntime) -> None:
    async with transaction(runtime, actor.tenant_id) as conn:
        await handler(target, conn=conn, actor=actor)


@router.put(
    "/v1/follows/{user_id}",
    summary="Follow a person",
    description="Emits a Follow, direct to the followee. Yourself → 422; someone who blocked "
    "you → 403; someone you blocked → 409.",
    response_model=RelationOut,
    responses=_PUT_RESPONSES,
)
async def follow(
    user_id: UserId, actor: CurrentActor, runtime: CurrentRuntime, response: Response
) -> RelationOut:
    return await _put(graph.handle_follow, user_id, actor, runtime, response)


@router.delete(
    "/v1/follows/{user_id}",
    summary="Unfollow a person",
    description="Emits an Undo of the Follow.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_DELETE_RESPONSES,
)
async def unfollow(user_id: UserId, actor: CurrentActor, runtime: CurrentRuntime) -> None:
    await _delete(graph.handle_unfollow, user_id, actor, runtime)


@router.put(
    "/v1/tag-follows/{tag}",
    summary="Follow a hashtag",
    description="Emits a Follow of the Hashtag. A tag needs a letter; letters, digits, '_'.",
    response_model=RelationOut,
    responses=_PUT_RESPONSES,
)
async def follow_tag(
    tag: Tag, actor: CurrentActor, runtime: CurrentRuntime, response: Response
) -> RelationOut:
    return await _put(graph.handle_follow_tag, tag, actor, runtime, response)


@router.delete(
    "/v1/tag-follows/{tag}",
    summary="Unfollow a hashtag",
    description="Emits an Undo of the Follow.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_DELETE_RESPONSES,
)
async def unfollow_tag(tag: Tag, actor: CurrentActor, runtime: CurrentRuntime) -> None:
    await _delete(graph.handle_unfollow_tag, tag, actor, runtime)


@router.put(
    "/v1/blocks/{user_id}",
    summary="Block a person",
    description="Emits a Block (nobody is told) and ends the follows between you two, "
    "each with an Undo.",
    response_model=RelationOut,
    responses=_PUT_RESPONSES,
)
async def block(
    user_id: UserId, actor: CurrentActor, runtime: CurrentRuntime, response: Response
) -> RelationOut:
    return await _put(graph.handle_block, user_id, actor, runtime, response)


@router.delete(
    "/v1/blocks/{user_id}",
    summary="Unblock a person",
    description="Emits an Undo of the Block.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_DELETE_RESPONSES,
)
async def unblock(user_id: UserId, actor: CurrentActor, runtime: CurrentRuntime) -> None:
    await _delete(graph.handle_unblock, user_id, actor, runtime)


@router.put(
    "/v1/mutes/users/{user_id}",
    summary="Mute a person",
    description="Emits an Ignore (nobody is told): their items leave your feeds and notifications.",
    response_model=RelationOut,
    responses=_PUT_RESPONSES,
)
async def mute(
    user_id: UserId, actor: CurrentActor, runtime: CurrentRuntime, response: Response
) -> RelationOut:
    return await _put(graph.handle_mute, user_id, actor, runtime, response)


@router.delete(
    "/v1/mutes/users/{user_id}",
    summary="Unmute a person",
    description="Emits an Undo of the Ignore.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_DELETE_RESPONSES,
)
async def unmute(user_id: UserId, actor: CurrentActor, runtime: CurrentRuntime) -> None:
    await _delete(graph.handle_unmute, user_id, actor, runtime)
