"""Reading feeds (docs/architecture.md §5, "Reads"): a page of a timeline, hydrated, with visibility
checked again — Redis first, Postgres when a timeline is missing (rebuilt at once, never an
empty feed after being away) or when a cursor goes past what Redis keeps.

A warm read is one Redis round trip (:meth:`FeedStore.read_page`: the reader's last-seen
marker, the timelines' windows and the first bodies) and no Postgres: the reader's graph, post
counts, the facts of the cached bodies and which of their people are former colleagues come
from :class:`~canopy_fanout.read_cache.ReadCaches`.
Pages are JSON bytes: cached bodies are spliced into them, never parsed and encoded again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from canopy_common.audience import may_see
from canopy_common.db import Connection
from canopy_common.errors import NotFound
from canopy_fanout import lookups
from canopy_fanout.adapters import graph, items
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.adapters.items import StoredItem
from canopy_fanout.domain.audience import delivers
from canopy_fanout.domain.entries import Cursor, Direction, Position, page_window
from canopy_fanout.domain.model import FeedKind, FeedRef, Item, ReaderGraph
from canopy_fanout.read_cache import KnownReader, Parsed
from canopy_fanout.read_path import Reads as Reads  # re-exported: the API builds one
from canopy_fanout.settings import Settings

# Items hidden from a reader are skipped; a page looks this many times for enough visible ones.
MAX_ROUNDS = 4
# Record a reader's last read at most this often (it decides who gets pushes).
SEEN_EVERY_S = 60
# A home timeline holds what was delivered to its reader, so nearly every entry is shown: the
# first round asks for a page and a few more; a later one for twice what is still missing.
FIRST_ROUND_SLACK = 4

Windows = list[tuple[list[Position], bool] | None]


@dataclass(frozen=True)
class Page:
    items: list[bytes]  # JSON objects: the activity, with its stats
    seen: list[tuple[str, str]]  # (activity id, object id) of each item: the impressions
    positions: list[Position]
    next_cursor: Cursor | None
    prev_cursor: Cursor | None


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to make, a page makes dozens
class _Shown:
    parsed: Parsed
    position: Position


class _Stale(Exception):
    """The reader's graph came from the cache and hid something: it is read afresh."""


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
    """One page of ``feed`` as ``reader_id`` may see it, newest first.

    A graph from the cache is trusted to show what the reader's timelines hold, never to hide
    it: the write path put it there with a fresh graph (after a follow, a join), so when it
    hides an item or denies a group, the page is made again with the graph read afresh.
    """
    known, fresh = await lookups.reader_graph(reads, tenant, reader_id, guest)
    page = _Read(reads, tenant, reader_id, feed, cursor, limit)
    try:
        return await page.run(known, fresh=fresh)
    except _Stale:
        known, _ = await lookups.reader_graph(reads, tenant, reader_id, guest, fresh=True)
        return await page.run(known, fresh=True)


@dataclass(frozen=True, slots=True)
class _Read:
    reads: Reads
    tenant: str
    reader_id: str
    feed: FeedRef
    cursor: Cursor | None
    limit: int

    async def run(self, known: KnownReader, *, fresh: bool) -> Page:
        """The page with this graph; :class:`_Stale` when it hid something, denied the feed
        or a timeline must be rebuilt, and it is not ``fresh`` (read for this page)."""
        reads, tenant, feed, me = self.reads, self.tenant, self.feed, known.graph
        try:
            await lookups.check_access(reads, tenant, me, feed)
        except NotFound:
            if not fresh:
                raise _Stale from None
            # Still a read: it decides who gets pushes.
            sighted = await reads.feeds.first_sight(tenant, self.reader_id, SEEN_EVERY_S)
            await lookups.note_sight(reads, tenant, self.reader_id, sighted)
            raise
        sources = [feed, *_pull_sources(me, feed)]
        first_sight, windows, bodies = await self._windows(sources)
        await lookups.note_sight(reads, tenant, self.reader_id, first_sight)
        built = all(window is not None for window in windows)
        if not built:  # rebuilt from Postgres, with a graph as fresh as the rebuild
            if not fresh:
                raise _Stale
            await _ensure_built(reads, tenant, me, sources, primary=feed)
            _, windows, bodies = await self._windows(sources)
        chosen, hid = await _visible_page(
            reads, tenant, known, feed, sources, self.cursor, self.limit, windows, bodies
        )
        if hid and not fresh:
            raise _Stale
        if built:
            reads.metrics.feed_reads.labels(feed.kind.value, "hit").inc()
        return await self._page(chosen)

    async def _windows(
        self, sources: Sequence[FeedRef]
    ) -> tuple[bool, Windows, dict[bytes, bytes]]:
        want = self.limit + FIRST_ROUND_SLACK
        return await self.reads.feeds.read_page(
            self.tenant,
            self.reader_id,
            sources,
            self.cursor,
            want,
            bodies=want,
            seen_every_s=SEEN_EVERY_S,
        )

    async def _page(self, chosen: list[_Shown]) -> Page:
        cursor, limit = self.cursor, self.limit
        objects = [s.parsed.item.object_id for s in chosen]
        counts = await lookups.stats(self.reads, self.tenant, self.reader_id, objects)
        people = [p for s in chosen for p in (s.parsed.item.actor_id, s.parsed.item.author_id)]
        former = await lookups.former(self.reads, self.tenant, people)
        positions = [s.position for s in chosen]
        return Page(
            items=[s.parsed.page_item(counts[s.parsed.item.object_id], former) for s in chosen],
            seen=[(s.parsed.item.activity_id, s.parsed.item.object_id) for s in chosen],
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


def _pull_sources(me: ReaderGraph, feed: FeedRef) -> list[FeedRef]:
    """The sources a home feed merges on read: followed people and joined groups too big to
    push (docs/architecture.md §5.4)."""
    if feed.kind is not FeedKind.HOME:
        return []
    return [FeedRef(FeedKind.USER, p) for p in sorted(me.pull_people)] + [
        FeedRef(FeedKind.GROUP, g) for g in sorted(me.pull_groups)
    ]


async def _ensure_built(
    reads: Reads, tenant: str, me: ReaderGraph, sources: Sequence[FeedRef], *, primary: FeedRef
) -> None:
    built = await reads.feeds.built(tenant, sources)
    for source, ready in zip(sources, built, strict=True):
        if ready:
            if source == primary:
                reads.metrics.feed_reads.labels(source.kind.value, "hit").inc()
            continue
        async with reads.pool.acquire() as conn:
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
    reads: Reads,
    tenant: str,
    known: KnownReader,
    feed: FeedRef,
    sources: Sequence[FeedRef],
    cursor: Cursor | None,
    limit: int,
    windows: Windows,
    bodies: Mapping[bytes, bytes],
) -> tuple[list[_Shown], bool]:
    """The ``limit`` items of the page, visible to the reader, newest first, and whether the
    graph hid any. The first round uses ``windows`` and ``bodies`` (read with ``limit +
    FIRST_ROUND_SLACK`` entries)."""
    me, home = known.graph, feed.kind is FeedKind.HOME
    decide = partial(_shows, me, feed)
    chosen: list[_Shown] = []
    seen: set[bytes] = set()
    hid = False
    at = cursor
    want = limit + FIRST_ROUND_SLACK
    # Positions come newest first and each round is older than the last: going older, the
    # first `limit` visible ones are the page (going newer, the last ones are).
    going_older = cursor is None or cursor.direction is Direction.OLDER
    for _ in range(MAX_ROUNDS):
        if not windows:
            windows = [await reads.feeds.window(tenant, source, at, want) for source in sources]
        positions, exhausted = await _positions(reads, tenant, me, feed, windows, at, want)
        fresh = [p for p in positions if p.member not in seen]
        seen.update(p.member for p in fresh)
        for shown in await _hydrate(reads, tenant, fresh, bodies):
            if going_older and len(chosen) >= limit:
                break
            parsed = shown.parsed
            if parsed.item.deleted:
                continue
            if known.verdict(parsed, home, decide):
                chosen.append(shown)
            else:
                hid = True
        if not positions or exhausted or len(chosen) >= limit:
            break
        edge = positions[-1] if at is None or at.direction is Direction.OLDER else positions[0]
        at = Cursor(at.direction if at is not None else Direction.OLDER, edge)
        want = (limit - len(chosen)) * 2 + 4
        windows, bodies = [], {}
    chosen.sort(key=lambda s: (s.position.score, s.position.member), reverse=True)
    if cursor is not None and cursor.direction is Direction.NEWER:
        return chosen[-limit:], hid
    return chosen[:limit], hid


async def _positions(
    reads: Reads,
    tenant: str,
    me: ReaderGraph,
    feed: FeedRef,
    windows: Windows,
    cursor: Cursor | None,
    count: int,
) -> tuple[list[Position], bool]:
    """The next ``count`` positions on the cursor's side, from the timelines' ``windows`` (the
    feed's first) — or from Postgres when the timeline was trimmed and the cursor is past its
    oldest entry. Also whether there is nothing more to look at."""
    trimmed_primary = windows[0] is not None and windows[0][1]
    if cursor is None and len(windows) == 1 and windows[0] is not None:
        # One timeline's newest: Redis gives them in page_window's order already (score,
        # then member, descending), and sorting them again costs more than the rest.
        page = windows[0][0][:count]
    else:
        merged: list[Position] = []
        for window in windows:
            merged += window[0] if window is not None else []
        page = page_window(merged, cursor, count)
    going_older = cursor is None or cursor.direction is Direction.OLDER
    if len(page) < count and going_older and trimmed_primary:
        before = page[-1] if page else (cursor.position if cursor is not None else None)
        async with reads.pool.acquire() as conn:
            deeper = await stored_items(
                conn, tenant, feed, me, before=before, limit=count - len(page)
            )
        reads.metrics.feed_reads.labels(feed.kind.value, "deep").inc()
        return page + [s.position for s in deeper], len(deeper) < count - len(page)
    return page, len(page) < count


async def _hydrate(
    reads: Reads, tenant: str, positions: Sequence[Position], prefetched: Mapping[bytes, bytes]
) -> list[_Shown]:
    """The items behind timeline positions: bodies read with the page, else from Redis (one
    MGET), misses from Postgres (then cached). Entries with no item any more are left out."""
    caches = reads.caches
    parsed: dict[bytes, Parsed] = {}
    missing: list[Position] = []
    for position in positions:
        raw = prefetched.get(position.member)
        if raw is None:
            missing.append(position)
        else:
            parsed[position.member] = caches.parsed(raw)
    if missing:
        entries = [uuid.UUID(bytes=p.member) for p in missing]
        cached = await reads.feeds.bodies(tenant, entries)
        absent = [entry for entry, raw in zip(entries, cached, strict=True) if raw is None]
        parsed.update(
            (entry.bytes, caches.parsed(raw))
            for entry, raw in zip(entries, cached, strict=True)
            if raw is not None
        )
        if absent:
            async with reads.pool.acquire() as conn:
                loaded = await items.by_entries(conn, tenant, absent)
            await reads.feeds.cache_bodies(
                tenant, {e: s.cached() for e, s in loaded.items() if not s.item.deleted}
            )
            parsed.update((entry.bytes, Parsed.of(s)) for entry, s in loaded.items())
    return [_Shown(parsed[p.member], p) for p in positions if p.member in parsed]
