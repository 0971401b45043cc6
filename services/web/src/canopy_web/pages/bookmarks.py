"""``/bookmarks``: the posts the signed-in person bookmarked, newest bookmark first, a page at
a time (ingestion's ``/v1/bookmarks``; only they see it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from canopy_web.api import Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import render

router = APIRouter(dependencies=[Depends(csrf_protected)])

BOOKMARKS_PAGE = 20
Cursor = Annotated[str | None, Query(max_length=512)]


@router.get("/bookmarks", include_in_schema=False)
async def bookmarks(
    request: Request, session: CurrentSession, api: CurrentApi, cursor: Cursor = None
) -> Response:
    page = await api.page(Service.INGESTION, "/v1/bookmarks", cursor=cursor, limit=BOOKMARKS_PAGE)
    return await render(
        request, "feed/bookmarks.html", session=session, api=api, page=page, cursor=cursor
    )
