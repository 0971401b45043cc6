"""``/``: the signed-in person's home feed, a page at a time (fanout's ``/v1/feeds/home``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from canopy_web.api import Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import render

router = APIRouter(dependencies=[Depends(csrf_protected)])

FEED_PAGE = 20  # about a screenful and a half: the first item paints fast
Cursor = Annotated[str | None, Query(max_length=512)]


@router.get("/", include_in_schema=False)
async def home(
    request: Request, session: CurrentSession, api: CurrentApi, cursor: Cursor = None
) -> Response:
    page = await api.page(Service.FANOUT, "/v1/feeds/home", cursor=cursor, limit=FEED_PAGE)
    return await render(request, "home.html", session=session, api=api, page=page, cursor=cursor)
