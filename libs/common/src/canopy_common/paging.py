"""Paging for every list route (docs/architecture.md §16): ``limit``, an opaque cursor
(:mod:`canopy_common.cursors`), a body ``{items, next_cursor}`` and a ``Link`` header
(RFC 8288).
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

from canopy_common.cursors import CURSOR_MAX_LENGTH as CURSOR_MAX_LENGTH
from canopy_common.cursors import BadCursor as BadCursor
from canopy_common.cursors import decode_cursor as decode_cursor
from canopy_common.cursors import encode_cursor as encode_cursor
from canopy_common.cursors import trim as trim

# The largest page any list route answers; the default page is smaller.
PAGE_MAX = 100
PAGE_DEFAULT = 20

Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description=f"Items per page, at most {PAGE_MAX}")]
CursorParam = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_LENGTH,
        description="`next_cursor` of the previous page (opaque)",
    ),
]

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list: its items and the cursor of the next page (null on the last)."""

    items: list[Item]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


def next_link(request: Request, next_cursor: str | None, limit: int) -> dict[str, str]:
    """The ``Link`` header to the next page (same query, the new cursor), or none."""
    if next_cursor is None:
        return {}
    url = request.url.include_query_params(cursor=next_cursor, limit=limit)
    return {"Link": f'<{url}>; rel="next"'}
