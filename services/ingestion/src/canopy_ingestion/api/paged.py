"""The answer of a list route (docs/architecture.md §16): the page as JSON and the ``Link``
header to the next one."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request, Response

from canopy_common.paging import Page, next_link


def page_response(request: Request, page: Page[Any], limit: int) -> Response:
    """``{"items": [...], "next_cursor": ...}`` with ``Link: <...>; rel="next"`` when more
    follow (items already JSON-ready)."""
    body = {"items": page.items, "next_cursor": page.next_cursor}
    return Response(
        orjson.dumps(body),
        media_type="application/json",
        headers=next_link(request, page.next_cursor, limit),
    )
