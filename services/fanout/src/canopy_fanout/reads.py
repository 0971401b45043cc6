"""Reading feeds (ARCHITECTURE §5, "Reads"): a page of a timeline, hydrated, with visibility
checked again — Redis first, Postgres when a timeline is missing (rebuilt at once, never an
empty feed after being away) or when a cursor goes past what Redis keeps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from canopy_common.audience import may_see
from canopy_common.db import Connection
from canopy_common.errors import NotFound
from canopy_common.events import Visibility
from canopy_fanout.adapters import graph, items
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.adapters.items import StoredItem
from canopy_fanout.domain.audience import delivers
from canopy_fanout.domain.entries import Cursor, Direction, Position, page_window
from canopy_fanout.domain.model import FeedKind, FeedRef, Item, ReaderGraph
from canopy_fanout.metrics import FanoutMetrics
from canopy_fanout.settings import Settings

Doc = dict[str, object]
# Items hidden from a reader are skipped; a page looks this many times for enough visible ones.
MAX_ROUNDS = 4
# Record a reader's last read at most this often (it decides who gets pushes).
SEEN_EVERY_S = 60


@dataclass(frozen=True)
class Page:
    items: list[Doc]
    positions: list[Position]
    next_cursor: Cursor | None
    prev_cursor: Cursor | None


@dataclass(frozen=True)
class Reads:
    """The collaborators of the read path."""

    pool: asyncpg.Pool
    feeds: FeedStore
    settings: Settings
    metrics: FanoutMetrics


async def read_feed(
    reads: Reads,
    *,
    tenant: str,
    reader_id: str,
    guest: bool,
    feed: FeedRef,
    cursor: Cursor | None,
    limit: int,
) -> Page:
    """One page of ``feed`` as ``reader_id`` may see it, newest first."""
    feeds = reads.feeds
    async with reads.pool.acquire() as conn:
        if await feeds.first_sight(tenant, reader_id, SEEN_EVERY_S):
            await graph.record_reads(conn, tenant, reader_id, datetime.now(UTC))
        me = await graph.reader_graph(
            conn, tenant, reader_id, push_limit=reads.settings.push_limit, guest=guest
        )
        await _check_access(conn, tenant, me, feed)
        sources = [feed, *_pull_sources(me, feed)]
        await _ensure_built(conn, reads, tenant, me, sources, primary=feed)
        chosen = await _visible_page(conn, reads, tenant, me, feed, sources, cursor, limit)
        object_ids = [s.item.object_id for s in chosen]
        counts = await items.stats(conn, tenant, object_ids, reader_id)
    await feeds.touch(tenant, feed)
    docs = [_item_doc(s, counts.get(s.item.object_id)) for s in chosen]
    positions = [s.position for s in chosen]
    return Page(
        items=docs,
        positions=positions,
        next_cursor=Cursor(Direction.OLDER, positions[-1]) if len(chosen) == limit else None,
        prev_cursor=(
            Cursor(Direction.NEWER, positions[0])
            if positions
            else cursor
            if cursor is not None and cursor.direction is Direction.NEWER
            else None
        ),
    )


async def _check_access(conn: Connection, tenant: str, me: ReaderGraph, feed: FeedRef) -> None:
    """404 for a feed the reader may not know of: an unknown person, an unknown group, or a
    group they cannot see (a private one they are not in; an internal one, for a guest)."""
    match feed.kind:
        case FeedKind.USER:
            if not await graph.person_exists(conn, tenant, feed.owner):
                raise NotFound(f"no person {feed.owner!r}")
        case FeedKind.GROUP:
            visibility = await graph.group_visibility(conn, tenant, feed.owner)
            member = feed.owner in me.groups
            visible = (
                member
                or visibility is Visibility.PUBLIC
                or (visibility is Visibility.INTERNAL and not me.reader.guest)
            )
            if visibility is None or not visible:
                raise NotFound(f"no group {feed.owner!r}")


def _pull_sources(me: ReaderGraph, feed: FeedRef) -> list[FeedRef]:
    """The sources a home feed merges on read: followed people and joined groups too big to
    push (ARCHITECTURE §5.4)."""
    if feed.kind is not FeedKind.HOME:
        return []
    return [FeedRef(FeedKind.USER, p) for p in sorted(me.pull_people)] + [
        FeedRef(FeedKind.GROUP, g) for g in sorted(me.pull_groups)
    ]


async def _ensure_built(
    conn: Connection,
    reads: Reads,
    tenant: str,
    me: ReaderGraph,
    sources: Sequence[FeedRef],
    *,
    primary: FeedRef,
) -> None:
    built = await reads.feeds.built(tenant, sources)
    for source, ready in zip(sources, built, strict=True):
        if ready:
            if source == primary:
                reads.metrics.feed_reads.labels(source.kind.value, "hit").inc()
            continue
        await rebuild_feed(conn, reads.feeds, tenant, source, me=me, settings=reads.settings)
        reads.metrics.feed_reads.labels(source.kind.value, "rebuild").inc()


async def rebuild_feed(
    conn: Connection,
    feeds: FeedStore,
    tenant: str,
    feed: FeedRef,
    *,
    settings: Settings,
    me: ReaderGraph | None = None,
) -> int:
    """Build a timeline from the activity store; the number of entries it got."""
    if feed.kind is FeedKind.HOME and me is None:
        me = await graph.reader_graph(conn, tenant, feed.owner, push_limit=settings.push_limit)
    found = await stored_items(conn, tenant, feed, me, before=None, limit=settings.feed_cap)
    await feeds.replace(tenant, feed, [s.position for s in found])
    return len(found)


async def stored_items(
    conn: Connection,
    tenant: str,
    feed: FeedRef,
    me: ReaderGraph | None,
    *,
    before: Position | None,
    limit: int,
) -> list[StoredItem]:
    """A feed's items from Postgres, newest first (a home feed's as its reader gets them)."""
    match feed.kind:
        case FeedKind.HOME:
            assert me is not None
            found = await items.recent(
                conn,
                tenant,
                actors=sorted(me.follows | {feed.owner}),
                groups=sorted(me.groups),
                tags=sorted(me.tags),
                named=feed.owner,
                before=before,
                limit=limit,
            )
            return [s for s in found if delivers(me.reader, s.item, me.ties(s.item))]
        case FeedKind.USER:
            return await items.recent(conn, tenant, actors=[feed.owner], before=before, limit=limit)
        case FeedKind.GROUP:
            return await items.recent(conn, tenant, groups=[feed.owner], before=before, limit=limit)
        case FeedKind.TAG:
            return await items.recent(conn, tenant, tags=[feed.owner], before=before, limit=limit)


def _shows(me: ReaderGraph, feed: FeedRef, item: Item) -> bool:
    ties = me.ties(item)
    return (
        delivers(me.reader, item, ties)
        if feed.kind is FeedKind.HOME
        else may_see(me.reader, item, ties)
    )


async def _visible_page(
    conn: Connection,
    reads: Reads,
    tenant: str,
    me: ReaderGraph,
    feed: FeedRef,
    sources: Sequence[FeedRef],
    cursor: Cursor | None,
    limit: int,
) -> list[StoredItem]:
    """The ``limit`` items of the page, visible to the reader, newest first."""
    chosen: list[StoredItem] = []
    seen: set[bytes] = set()
    at = cursor
    for _ in range(MAX_ROUNDS):
        want = (limit - len(chosen)) * 2 + 4
        positions, exhausted = await _positions(conn, reads, tenant, me, feed, sources, at, want)
        fresh = [p for p in positions if p.member not in seen]
        seen.update(p.member for p in fresh)
        for stored in await hydrate(conn, reads.feeds, tenant, fresh):
            if not stored.item.deleted and _shows(me, feed, stored.item):
                chosen.append(stored)
        if not positions or exhausted or len(chosen) >= limit:
            break
        edge = positions[-1] if at is None or at.direction is Direction.OLDER else positions[0]
        at = Cursor(at.direction if at is not None else Direction.OLDER, edge)
    chosen.sort(key=lambda s: s.position, reverse=True)
    if cursor is not None and cursor.direction is Direction.NEWER:
        return chosen[-limit:]
    return chosen[:limit]


async def _positions(
    conn: Connection,
    reads: Reads,
    tenant: str,
    me: ReaderGraph,
    feed: FeedRef,
    sources: Sequence[FeedRef],
    cursor: Cursor | None,
    count: int,
) -> tuple[list[Position], bool]:
    """The next ``count`` positions on the cursor's side, from Redis — or from Postgres when
    the timeline was trimmed and the cursor is past its oldest entry. Also whether there is
    nothing more to look at."""
    merged: list[Position] = []
    trimmed_primary = False
    for source in sources:
        found, trimmed = await reads.feeds.window(tenant, source, cursor, count)
        merged += found
        if source == feed:
            trimmed_primary = trimmed
    page = page_window(merged, cursor, count)
    going_older = cursor is None or cursor.direction is Direction.OLDER
    if len(page) < count and going_older and trimmed_primary:
        before = page[-1] if page else (cursor.position if cursor is not None else None)
        deeper = await stored_items(conn, tenant, feed, me, before=before, limit=count - len(page))
        reads.metrics.feed_reads.labels(feed.kind.value, "deep").inc()
        return page + [s.position for s in deeper], len(deeper) < count - len(page)
    return page, len(page) < count


async def hydrate(
    conn: Connection, feeds: FeedStore, tenant: str, positions: Sequence[Position]
) -> list[StoredItem]:
    """The items behind timeline positions: bodies from Redis (one MGET), misses from
    Postgres (then cached). Entries with no item any more are left out."""
    entries = [uuid.UUID(bytes=p.member) for p in positions]
    cached = await feeds.bodies(tenant, entries)
    found: dict[uuid.UUID, StoredItem] = {
        entry: StoredItem.from_cache(raw)
        for entry, raw in zip(entries, cached, strict=True)
        if raw is not None
    }
    missing = [entry for entry in entries if entry not in found]
    if missing:
        loaded = await items.by_entries(conn, tenant, missing)
        await feeds.cache_bodies(
            tenant, {e: s.cached() for e, s in loaded.items() if not s.item.deleted}
        )
        found.update(loaded)
    return [found[entry] for entry in entries if entry in found]


def _item_doc(stored: StoredItem, counts: items.Stats | None) -> Doc:
    counts = counts or items.Stats()
    return {
        **stored.body,
        "stats": {
            "replies": counts.replies,
            "reactions": counts.reactions,
            "reacted": counts.reacted,
        },
    }
