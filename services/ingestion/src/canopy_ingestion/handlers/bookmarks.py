"""Bookmarks: a person keeps posts to read again (docs/architecture.md §16). Private to them:
nothing is published; GDPR erasure drops them; a deleted post, or one they may no longer
see, drops out of their list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.paging import Page, decode_cursor, encode_cursor, trim
from canopy_ingestion.adapters import bookmarks as store
from canopy_ingestion.domain.model import User
from canopy_ingestion.handlers.post_views import readable, render_for, visible_post


async def bookmark(post_id: str, *, conn: Connection, actor: User) -> None:
    """Bookmark a post the actor may see (404 otherwise); again changes nothing."""
    ctx = await visible_post(conn, actor, post_id)
    await store.add_bookmark(conn, actor.tenant_id, actor.id, ctx.post.id)


async def unbookmark(post_id: str, *, conn: Connection, actor: User) -> None:
    """Take a bookmark away; no bookmark there changes nothing. 404 for a post the actor may
    not see — unless they had bookmarked it: their own bookmark is theirs to remove."""
    if await store.remove_bookmark(conn, actor.tenant_id, actor.id, post_id):
        return
    await visible_post(conn, actor, post_id)


async def list_bookmarks(
    *, conn: Connection, actor: User, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A page of the actor's bookmarked posts they still see, newest bookmarked first (a page
    may hold fewer than ``limit``: those no longer visible are dropped after it is read)."""
    after = decode_cursor(cursor, (datetime, str)) if cursor else None
    rows = await store.bookmarks_page(
        conn,
        actor.tenant_id,
        actor.id,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    page, more = trim(rows, limit)
    last = page[-1] if page else None
    shown = [found.post for found in page if readable(actor, found.post)]
    return Page(
        items=await render_for(conn, actor, shown),
        next_cursor=encode_cursor(last.at, last.post.post.id) if more and last else None,
    )
