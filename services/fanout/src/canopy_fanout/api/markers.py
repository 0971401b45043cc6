"""HTTP routes: read markers — where a reader stopped reading each feed, so every device
opens at the same place (like Mastodon's markers).

``GET /v1/markers?feed=home&feed=notifications`` answers the markers asked for (all of the
reader's when none are named); ``PUT /v1/markers`` with ``{"home": {"last_read_id": "..."}}``
sets one or more. Feeds: ``home``, ``notifications`` and ``group:<group id>``; a group the
reader may not see (the one visibility rule, as its feed) answers 404 and nothing is stored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import CurrentPrincipal, Principal, Role
from canopy_common.errors import InvalidInput
from canopy_fanout import lookups
from canopy_fanout.api.deps import CurrentReads
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_fanout.read_path import Reads

router = APIRouter(prefix="/v1/markers", tags=["markers"])

_FEED = re.compile(r"^(home|notifications|group:[^\s]{1,255})$")
MAX_FEEDS = 20


class MarkerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    last_read_id: str = Field(min_length=1, max_length=255, description="The last item read")


class MarkerOut(BaseModel):
    last_read_id: str
    version: int  # grows with every change: clients can tell a newer marker from theirs
    updated_at: datetime


def _check_feed(name: str) -> None:
    if not _FEED.match(name):
        raise InvalidInput(
            f"feed: {name!r} is not a feed with markers (home, notifications, group:<id>)",
            extra={"field": "feed"},
        )


async def _check_groups(reads: Reads, principal: Principal, group_ids: list[str]) -> None:
    """404, as the group's feed answers, for a group the reader may not see (another
    tenant's, an unknown one, a private one they are not in): a marker would say it exists."""
    guest = principal.has_role(Role.GUEST) and not principal.has_role(Role.MEMBER)
    # Fresh, not cached: a cached graph may lack a group the reader has just joined.
    known, _ = await lookups.reader_graph(
        reads, principal.tenant_id, principal.user_id, guest, fresh=True
    )
    for group_id in group_ids:
        await lookups.check_access(
            reads, principal.tenant_id, known.graph, FeedRef(FeedKind.GROUP, group_id)
        )


@router.get("", summary="The reader's read markers")
async def get_markers(
    principal: CurrentPrincipal,
    reads: CurrentReads,
    feed: Annotated[list[str] | None, Query(description="Feeds to answer for")] = None,
) -> dict[str, MarkerOut]:
    names = feed or []
    if len(names) > MAX_FEEDS:
        raise InvalidInput(f"feed: at most {MAX_FEEDS} at once", extra={"field": "feed"})
    for name in names:
        _check_feed(name)
    rows = await reads.pool.fetch(
        "SELECT feed, last_read_id, version, updated_at FROM markers "
        "WHERE tenant_id = $1 AND user_id = $2 AND (cardinality($3::text[]) = 0 "
        "OR feed = ANY($3::text[]))",
        principal.tenant_id,
        principal.user_id,
        names,
    )
    return {
        row["feed"]: MarkerOut(
            last_read_id=row["last_read_id"], version=row["version"], updated_at=row["updated_at"]
        )
        for row in rows
    }


@router.put("", summary="Set read markers")
async def put_markers(
    principal: CurrentPrincipal, reads: CurrentReads, markers: dict[str, MarkerIn]
) -> dict[str, MarkerOut]:
    if not markers:
        raise InvalidInput('name at least one feed, e.g. {"home": {"last_read_id": "..."}}')
    if len(markers) > MAX_FEEDS:
        raise InvalidInput(f"at most {MAX_FEEDS} markers at once")
    for name in markers:
        _check_feed(name)
    groups = [name.removeprefix("group:") for name in markers if name.startswith("group:")]
    if groups:
        await _check_groups(reads, principal, groups)
    saved: dict[str, MarkerOut] = {}
    async with reads.pool.acquire() as conn, conn.transaction():
        for name, marker in markers.items():
            row = await conn.fetchrow(
                "INSERT INTO markers (tenant_id, user_id, feed, last_read_id) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, user_id, feed) DO UPDATE "
                "SET last_read_id = excluded.last_read_id, version = markers.version + 1, "
                "updated_at = now() RETURNING version, updated_at",
                principal.tenant_id,
                principal.user_id,
                name,
                marker.last_read_id,
            )
            assert row is not None
            saved[name] = MarkerOut(
                last_read_id=marker.last_read_id,
                version=row["version"],
                updated_at=row["updated_at"],
            )
    return saved
