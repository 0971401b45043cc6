"""``/search?q=``: posts, people or groups the person may see (analytics' ``GET /v1/search``),
a page at a time, with the matches marked (through :mod:`canopy_web.snippets` only)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from canopy_common.vocabulary.post_kinds import AS2_TYPE
from canopy_web.api import ApiError, Page, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import render
from canopy_web.strings import t

router = APIRouter(dependencies=[Depends(csrf_protected)])

SEARCH_PAGE = 20
# The kinds of post a search may be narrowed to: every kind analytics indexes.
POST_KINDS = tuple(AS2_TYPE)
Cursor = Annotated[str | None, Query(max_length=512)]
# Longer than analytics takes (500): its 422 says how long a query may be.
Text = Annotated[str, Query(max_length=2_000)]


class SearchType(StrEnum):
    POSTS = "posts"
    PEOPLE = "people"
    GROUPS = "groups"


def _day(given: str, *, end: bool = False) -> str | None:
    """A day from the form (``YYYY-MM-DD``; a browser sends an empty field as "") as the
    instant analytics compares with: its start (``until``: the next day's start, so the day
    itself counts). Not a day: ValueError."""
    if not given.strip():
        return None
    value = date.fromisoformat(given.strip())
    if end:
        value = date.fromordinal(value.toordinal() + 1)
    return f"{value.isoformat()}T00:00:00Z"


@router.get("/search", include_in_schema=False)
async def search(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    q: Text = "",
    type: SearchType = SearchType.POSTS,
    kind: Annotated[str, Query(max_length=40)] = "",
    tag: Annotated[str, Query(max_length=100)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    cursor: Cursor = None,
) -> Response:
    query = q.strip()
    posts = type is SearchType.POSTS
    shown = {"kind": kind, "tag": tag, "since": since, "until": until}
    page: Page | None = None
    error = ""
    filters: dict[str, Any] = {}
    if posts:
        try:
            filters = {
                "kind": kind or None,
                "tag": tag.strip() or None,
                "since": _day(since),
                "until": _day(until, end=True),
            }
        except ValueError:
            error = t("search.bad_day")
    if query and not error:
        try:
            page = await api.page(
                Service.ANALYTICS,
                "/v1/search",
                q=query,
                type=type.value,
                limit=SEARCH_PAGE,
                cursor=cursor,
                **filters,
            )
        except ApiError as refused:
            if refused.status not in (400, 422):
                raise
            error = refused.detail or refused.title
    kept = {"q": query, **({k: v for k, v in shown.items() if v} if posts else {})}
    return await render(
        request,
        "search/page.html",
        session=session,
        api=api,
        status_code=422 if error else 200,
        q_search=query,
        query=query,
        type=type,
        types=list(SearchType),
        kinds=POST_KINDS,
        shown=shown,
        page=page,
        cursor=cursor,
        error=error,
        here="/search?" + urlencode({**kept, "type": type.value}),
        tab_query={t: "/search?" + urlencode({"q": query, "type": t.value}) for t in SearchType},
    )
