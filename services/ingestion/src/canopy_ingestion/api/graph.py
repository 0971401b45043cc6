"""HTTP routes: the social graph (follows, tag follows, blocks, mutes).

``PUT`` creates the relation (201) or finds it already there (200, nothing emitted);
``DELETE`` ends it (204) or answers 404 when there is none. ``GET`` lists followers,
following and followed hashtags (paged, newest first: ``canopy_common.paging``) and the
caller's relationships to people (``handlers.graph_reads`` says who sees what).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from canopy_common.db import Connection
from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, Page, next_link
from canopy_ingestion.api.deps import ID_MAX_LENGTH, CurrentActor, CurrentRuntime, transaction
from canopy_ingestion.api.people import PersonRefOut
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.text import HASHTAG_MAX_LENGTH
from canopy_ingestion.handlers import graph
from canopy_ingestion.handlers.graph import RelationResult
from canopy_ingestion.handlers.graph_reads import (
    RELATIONSHIPS_MAX,
    handle_connections,
    handle_followed_tags,
    handle_relationships,
)

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


# --- reads ----------------------------------------------------------------------------------

_SINCE = "2025-01-31T09:00:00Z"
_ADA = {"id": "u-ada", "handle": "ada", "display_name": "Ada Lovelace", "title": "Engineer"}


class ConnectionOut(PersonRefOut):
    """A person on a followers or following list, and since when the follow exists."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_ADA, "active": True, "since": _SINCE}]}
    )

    since: datetime


class ConnectionsPageOut(Page[ConnectionOut]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [{**_ADA, "active": True, "since": _SINCE}], "next_cursor": None}
            ]
        }
    )


class RelationshipOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "u-ada",
                    "following": True,
                    "followed_by": False,
                    "blocking": False,
                    "muting": False,
                }
            ]
        }
    )

    id: str
    following: bool = Field(description="You follow them")
    followed_by: bool = Field(description="They follow you")
    blocking: bool = Field(description="You blocked them")
    muting: bool = Field(description="You muted them")


class TagFollowOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"tag": "release", "since": _SINCE}]})

    tag: str = Field(description="Lower-case, without '#'")
    since: datetime


class TagFollowsPageOut(Page[TagFollowOut]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [{"tag": "release", "since": _SINCE}], "next_cursor": None}]
        }
    )


_LIST_RESPONSES = problems(400, 404)
_LIST_NOTES = (
    " Newest follow first; `limit`, `cursor` and a `Link` header to the next page. A person "
    "you may not see (another tenant's, erased, or for a guest someone they share no group "
    "with) → 404; a cursor this API did not give out → 400. Someone who blocked you shows you "
    "an empty list; on others' lists, the people you blocked, who blocked you or whom you "
    "muted are left out (as Mastodon does). Guests see only the people they share a group "
    "with."
)


async def _connections(
    user_id: str,
    *,
    followers: bool,
    actor: User,
    runtime: CurrentRuntime,
    request: Request,
    response: Response,
    limit: int,
    cursor: str | None,
) -> ConnectionsPageOut:
    async with transaction(runtime, actor.tenant_id) as conn:
        page = await handle_connections(
            user_id, conn=conn, viewer=actor, followers=followers, limit=limit, cursor=cursor
        )
    response.headers.update(next_link(request, page.next_cursor, limit))
    items = [
        ConnectionOut(**PersonRefOut.of(item.person).model_dump(), since=item.since)
        for item in page.items
    ]
    return ConnectionsPageOut(items=items, next_cursor=page.next_cursor)


@router.get(
    "/v1/users/{user_id}/followers",
    summary="A person's followers",
    description="The people who follow them, with their id, handle, name, title and whether "
    "they are still active." + _LIST_NOTES,
    response_model=ConnectionsPageOut,
    responses=_LIST_RESPONSES,
)
async def followers(
    user_id: UserId,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    request: Request,
    response: Response,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> ConnectionsPageOut:
    return await _connections(
        user_id,
        followers=True,
        actor=actor,
        runtime=runtime,
        request=request,
        response=response,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/v1/users/{user_id}/following",
    summary="Whom a person follows",
    description="The people they follow, with their id, handle, name, title and whether they "
    "are still active." + _LIST_NOTES,
    response_model=ConnectionsPageOut,
    responses=_LIST_RESPONSES,
)
async def following(
    user_id: UserId,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    request: Request,
    response: Response,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> ConnectionsPageOut:
    return await _connections(
        user_id,
        followers=False,
        actor=actor,
        runtime=runtime,
        request=request,
        response=response,
        limit=limit,
        cursor=cursor,
    )


RelationshipIds = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH)]],
    Query(
        alias="id",
        min_length=1,
        max_length=RELATIONSHIPS_MAX,
        description=f"A person's id; repeat for more, at most {RELATIONSHIPS_MAX}",
        examples=[["u-ada", "u-bob"]],
    ),
]


@router.get(
    "/v1/relationships",
    summary="Your relationships to people",
    description="For each person asked (`?id=..&id=..`, at most "
    f"{RELATIONSHIPS_MAX}; more → 422): whether you follow them, they follow you, you "
    "blocked or muted them. Ids of people you may not see (unknown, erased, another "
    "tenant's) are left out, as Mastodon does; the rest come in the order asked.",
    response_model=list[RelationshipOut],
)
async def relationships(
    ids: RelationshipIds, actor: CurrentActor, runtime: CurrentRuntime
) -> list[RelationshipOut]:
    async with transaction(runtime, actor.tenant_id) as conn:
        found = await handle_relationships(ids, conn=conn, viewer=actor)
    return [
        RelationshipOut(
            id=rel.person.id,
            following=rel.following,
            followed_by=rel.followed_by,
            blocking=rel.blocking,
            muting=rel.muting,
        )
        for rel in found
    ]


@router.get(
    "/v1/tag-follows",
    summary="The hashtags you follow",
    description="Newest first; `limit`, `cursor` and a `Link` header to the next page. A "
    "cursor this API did not give out → 400.",
    response_model=TagFollowsPageOut,
    responses=problems(400),
)
async def followed_tags(
    actor: CurrentActor,
    runtime: CurrentRuntime,
    request: Request,
    response: Response,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> TagFollowsPageOut:
    async with transaction(runtime, actor.tenant_id) as conn:
        page = await handle_followed_tags(conn=conn, viewer=actor, limit=limit, cursor=cursor)
    response.headers.update(next_link(request, page.next_cursor, limit))
    items = [TagFollowOut(tag=item.target, since=item.since) for item in page.items]
    return TagFollowsPageOut(items=items, next_cursor=page.next_cursor)
