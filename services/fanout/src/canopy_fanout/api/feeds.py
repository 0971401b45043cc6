"""HTTP routes: the feeds (docs/architecture.md §5, "Reads").

``GET /v1/feeds/home``, ``/v1/feeds/users/{user_id}``, ``/v1/feeds/groups/{group_id}`` and
``/v1/feeds/tags/{tag}`` answer ``{"items", "next_cursor", "prev_cursor"}`` newest first, with
a ``Link`` header (RFC 8288) to the next and previous pages; with ``Accept:
application/activity+json`` the page is an AS2 ``OrderedCollectionPage``. Each item is the
activity (``object.id`` is the post's id), its actor's summary, and ``stats``: reply and
reaction counts and whether the reader reacted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from canopy_common.auth import CurrentPrincipal, Role
from canopy_common.errors import InvalidInput
from canopy_common.events import CANOPY_CONTEXT
from canopy_common.openapi import problems
from canopy_fanout.api.deps import CurrentReads, Impressions
from canopy_fanout.domain.entries import Cursor
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_fanout.reads import Page, read_feed

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])

AS2_MEDIA_TYPES = ("application/activity+json", "application/ld+json")
MAX_TAG_LENGTH = 100

# The page as JSON, or as AS2 when the client asks for it; 404 where the feed is not the
# reader's to see (an unknown person or group, a private group of others).
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of the feed, newest first; with `Accept: application/activity+json`"
        " an AS2 OrderedCollectionPage",
        "content": {"application/activity+json": {"schema": {"type": "object"}}},
    }
}
FEED_RESPONSES = {**PAGE_RESPONSES, **problems(404)}
CursorParam = Annotated[
    str | None, Query(description="Opaque: a page's next_cursor or prev_cursor", max_length=200)
]
# No page is larger, whatever CANOPY_FANOUT_MAX_PAGE_SIZE says (it is capped at this too): a
# bound the document states, so a limit past a 64-bit integer never reaches the code.
PAGE_SIZE_CEILING = 1000
LimitParam = Annotated[
    int | None,
    Query(ge=1, le=PAGE_SIZE_CEILING, description="Items per page (default 20, max 100)"),
]


async def _serve(
    request: Request,
    principal: CurrentPrincipal,
    reads: CurrentReads,
    impressions: Impressions,
    feed: FeedRef,
    cursor: str | None,
    limit: int | None,
    *,
    pinned_first: bool = False,
    seen: bool = True,
) -> Response:
    settings = reads.settings
    size = limit or settings.default_page_size
    if size > settings.max_page_size:
        raise InvalidInput(
            f"limit: at most {settings.max_page_size}",
            code="limit-exceeded",
            extra={"field": "limit", "limit": settings.max_page_size, "actual": size},
        )
    page = await read_feed(
        reads,
        tenant=principal.tenant_id,
        reader_id=principal.user_id,
        guest=principal.has_role(Role.GUEST) and not principal.has_role(Role.MEMBER),
        feed=feed,
        cursor=Cursor.decode(cursor) if cursor else None,
        limit=size,
        pinned_first=pinned_first,
    )
    if seen:
        impressions.add(principal.tenant_id, principal.user_id, feed.kind.value, page.seen)
    return _response(request, page, size)


def _page_url(request: Request, cursor: Cursor, size: int) -> str:
    url = request.url
    if not url.query:  # a first page: what include_query_params gives, without its parsing
        return f"{url}?cursor={cursor.encode()}&limit={size}"  # a cursor is URL-safe base64
    return str(url.include_query_params(cursor=cursor.encode(), limit=size))


def _response(request: Request, page: Page, size: int) -> Response:
    next_url = _page_url(request, page.next_cursor, size) if page.next_cursor else None
    prev_url = _page_url(request, page.prev_cursor, size) if page.prev_cursor else None
    links = [
        f'<{url}>; rel="{rel}"' for url, rel in ((next_url, "next"), (prev_url, "prev")) if url
    ]
    headers = {"Link": ", ".join(links)} if links else {}
    # The items are JSON already (cached bodies with their stats): they are spliced into the
    # page, which comes out as orjson would write the whole page as one document.
    items = b"[" + b",".join(page.items) + b"]"
    accept = request.headers.get("accept", "")
    if any(media in accept for media in AS2_MEDIA_TYPES):
        head = {
            "@context": CANOPY_CONTEXT,
            "type": "OrderedCollectionPage",
            "id": str(request.url),
            "partOf": str(request.url.remove_query_params(["cursor", "limit"])),
        }
        links_json = [(b"next", next_url), (b"prev", prev_url)]
        body = (
            orjson.dumps(head)[:-1]
            + b',"orderedItems":'
            + items
            + b"".join(b',"%s":%s' % (name, orjson.dumps(url)) for name, url in links_json if url)
            + b"}"
        )
        return Response(body, media_type="application/activity+json", headers=headers)
    next_cursor = page.next_cursor.encode() if page.next_cursor else None
    prev_cursor = page.prev_cursor.encode() if page.prev_cursor else None
    body = b'{"items":%s,"next_cursor":%s,"prev_cursor":%s}' % (
        items,
        orjson.dumps(next_cursor),
        orjson.dumps(prev_cursor),
    )
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/home",
    responses=PAGE_RESPONSES,
    summary="The reader's home feed: people, groups and hashtags they follow",
)
async def home(
    request: Request,
    principal: CurrentPrincipal,
    reads: CurrentReads,
    impressions: Impressions,
    cursor: CursorParam = None,
    limit: LimitParam = None,
    seen: Annotated[
        bool,
        Query(
            description="`false`: a check for news (the web client's live stream reads the "
            "head every 15 s), not a page shown: no impression is counted"
        ),
    ] = True,
) -> Response:
    feed = FeedRef(FeedKind.HOME, principal.user_id)
    return await _serve(request, principal, reads, impressions, feed, cursor, limit, seen=seen)


@router.get(
    "/users/{user_id}", responses=FEED_RESPONSES, summary="What one person posted and shared"
)
async def user_feed(
    request: Request,
    principal: CurrentPrincipal,
    reads: CurrentReads,
    impressions: Impressions,
    user_id: Annotated[str, Path(max_length=255)],
    cursor: CursorParam = None,
    limit: LimitParam = None,
) -> Response:
    feed = FeedRef(FeedKind.USER, user_id)
    return await _serve(request, principal, reads, impressions, feed, cursor, limit)


@router.get(
    "/groups/{group_id}",
    responses=FEED_RESPONSES,
    summary="What was posted into a group (members only if private)",
    description="With `pinned=first`, the first page (no `cursor`) starts with the group's "
    'pinned posts the reader may see, newest pin first, each with `"pinned": true`; then '
    "`limit` items as without it (a pinned post keeps its place there too). Later pages are "
    "the same either way. Pins are kept from ingestion's `Add`/`Remove` of a post to the "
    "group's featured collection (`PUT /v1/groups/{id}/pins/{post_id}`).",
)
async def group_feed(
    request: Request,
    principal: CurrentPrincipal,
    reads: CurrentReads,
    impressions: Impressions,
    group_id: Annotated[str, Path(max_length=255)],
    cursor: CursorParam = None,
    limit: LimitParam = None,
    pinned: Annotated[
        Literal["first"] | None,
        Query(description="`first`: the first page starts with the group's pinned posts"),
    ] = None,
) -> Response:
    feed = FeedRef(FeedKind.GROUP, group_id)
    return await _serve(
        request,
        principal,
        reads,
        impressions,
        feed,
        cursor,
        limit,
        pinned_first=pinned == "first",
    )


@router.get("/tags/{tag}", responses=PAGE_RESPONSES, summary="What carries a hashtag")
async def tag_feed(
    request: Request,
    principal: CurrentPrincipal,
    reads: CurrentReads,
    impressions: Impressions,
    tag: Annotated[str, Path(max_length=MAX_TAG_LENGTH + 1)],
    cursor: CursorParam = None,
    limit: LimitParam = None,
) -> Response:
    name = tag.removeprefix("#").lower()
    if not name or any(ch.isspace() or ch in "#:/" for ch in name):
        raise InvalidInput(f"tag: {tag!r} is not a hashtag", extra={"field": "tag"})
    feed = FeedRef(FeedKind.TAG, name)
    return await _serve(request, principal, reads, impressions, feed, cursor, limit)
