"""HTTP routes: a person's bookmarks (docs/architecture.md §16). Private: nothing is
published."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from canopy_common.auth import CurrentPrincipal
from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, Page
from canopy_ingestion.api.deps import CurrentRuntime, caller_transaction
from canopy_ingestion.api.paged import page_response
from canopy_ingestion.api.post_schemas import PostDocument, PostId
from canopy_ingestion.handlers import bookmarks as handlers

router = APIRouter(prefix="/v1/bookmarks", tags=["bookmarks"])


@router.get(
    "",
    response_model=Page[PostDocument],
    responses=problems(400),
    summary="Your bookmarks",
    description="The posts you bookmarked and still see, newest bookmarked first, each as "
    'you read it. Pages: `limit`, `cursor`, `Link: <...>; rel="next"`; a page may hold fewer '
    "than `limit` (deleted posts and posts you no longer see drop out), the last has no "
    "`next_cursor`. A cursor this API did not give out: 400.",
)
async def list_bookmarks(
    request: Request,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> Response:
    async with caller_transaction(runtime, principal) as (conn, actor):
        page = await handlers.list_bookmarks(conn=conn, actor=actor, limit=limit, cursor=cursor)
    return page_response(request, page, limit)


@router.put(
    "/{post_id}",
    status_code=204,
    responses=problems(404),
    summary="Bookmark a post",
    description="A post you may see (else 404); bookmarking it again changes nothing. Only "
    "you see your bookmarks.",
)
async def put_bookmark(
    post_id: PostId, runtime: CurrentRuntime, principal: CurrentPrincipal
) -> Response:
    async with caller_transaction(runtime, principal) as (conn, actor):
        await handlers.bookmark(post_id, conn=conn, actor=actor)
    return Response(status_code=204)


@router.delete(
    "/{post_id}",
    status_code=204,
    responses=problems(404),
    summary="Remove a bookmark",
    description="Idempotent: no bookmark of a post you see is a 204 too. A post you may not "
    "see is a 404, unless you had bookmarked it.",
)
async def delete_bookmark(
    post_id: PostId, runtime: CurrentRuntime, principal: CurrentPrincipal
) -> Response:
    async with caller_transaction(runtime, principal) as (conn, actor):
        await handlers.unbookmark(post_id, conn=conn, actor=actor)
    return Response(status_code=204)
