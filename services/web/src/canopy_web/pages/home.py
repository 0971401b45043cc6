"""``/``: the signed-in person's home feed, a page at a time (fanout's ``/v1/feeds/home``),
with the compose form on top (its groups from ingestion's ``/v1/groups?mine=true``) and a
"new posts" banner when the live stream says the feed has a newer head (static/feed.js)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from canopy_web.api import Api, Page, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import render
from canopy_web.sessions import Session

router = APIRouter(dependencies=[Depends(csrf_protected)])

FEED_PAGE = 20  # about a screenful and a half: the first item paints fast
GROUPS_PICKED = 100  # the group picker lists at most this many of the person's groups
Cursor = Annotated[str | None, Query(max_length=512)]


async def my_groups(api: Api) -> list[dict[str, Any]]:
    """The groups a person may post into (the compose form's picker), archived ones left out."""
    page = await api.page(Service.INGESTION, "/v1/groups", mine="true", limit=GROUPS_PICKED)
    return [g for g in page.items if not g.get("archived")]


async def home_page(
    request: Request,
    session: Session,
    api: Api,
    *,
    cursor: str | None,
    draft: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The home page; ``draft`` and ``error`` when a post was refused (no JS)."""
    page: Page
    page, groups = await asyncio.gather(
        api.page(Service.FANOUT, "/v1/feeds/home", cursor=cursor, limit=FEED_PAGE),
        my_groups(api),
    )
    return await render(
        request,
        "home.html",
        session=session,
        api=api,
        status_code=status,
        page=page,
        cursor=cursor,
        groups=groups,
        draft=draft or {},
        error=error,
    )


@router.get("/", include_in_schema=False)
async def home(
    request: Request, session: CurrentSession, api: CurrentApi, cursor: Cursor = None
) -> Response:
    return await home_page(request, session, api, cursor=cursor)
