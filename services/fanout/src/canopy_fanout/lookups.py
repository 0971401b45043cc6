"""What a feed read looks up besides the timelines: the reader's graph, whether they may read
a feed, post counts — from :class:`~canopy_fanout.read_cache.ReadCaches` when they are there,
else from Postgres (then kept); and the reader's last read, recorded in Postgres."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from canopy_common.errors import NotFound
from canopy_common.visibility import sees_group
from canopy_fanout.adapters import graph, items
from canopy_fanout.domain.model import FeedKind, FeedRef, ReaderGraph
from canopy_fanout.read_cache import KnownReader
from canopy_fanout.read_path import Reads


async def note_sight(reads: Reads, tenant: str, reader_id: str, first_sight: bool) -> None:
    """Record the reader's last read when the feed store says it is the first in a while."""
    if first_sight:
        async with reads.pool.acquire() as conn:
            await graph.record_reads(conn, tenant, reader_id, datetime.now(UTC))


async def reader_graph(
    reads: Reads, tenant: str, reader_id: str, guest: bool, *, fresh: bool = False
) -> tuple[KnownReader, bool]:
    """The reader's graph (read from Postgres when not cached, or ``fresh``), and whether it
    was read from Postgres just now."""
    key = (tenant, reader_id, guest)
    if not fresh and (known := reads.caches.graphs.get(key)) is not None:
        return known, False
    async with reads.pool.acquire() as conn:
        me = await graph.reader_graph(
            conn, tenant, reader_id, push_limit=reads.settings.push_limit, guest=guest
        )
    known = KnownReader(me)
    reads.caches.graphs.put(key, known)
    return known, True


async def check_access(reads: Reads, tenant: str, me: ReaderGraph, feed: FeedRef) -> None:
    """404 for a feed the reader may not know of: an unknown person, an unknown group, or a
    group they cannot see (a private one they are not in; an internal one, for a guest)."""
    caches, key = reads.caches, (tenant, feed.owner)
    match feed.kind:
        case FeedKind.USER:
            if caches.people.get(key):
                return
            async with reads.pool.acquire() as conn:
                if not await graph.has_feed(conn, tenant, feed.owner):
                    raise NotFound(f"no person {feed.owner!r}")
            caches.people.put(key, True)
        case FeedKind.GROUP:
            visibility = caches.groups.get(key)
            if visibility is None:
                async with reads.pool.acquire() as conn:
                    visibility = await graph.group_visibility(conn, tenant, feed.owner)
                if visibility is not None:
                    caches.groups.put(key, visibility)
            member = feed.owner in me.groups
            if visibility is None or not sees_group(me.reader, visibility, member=member):
                raise NotFound(f"no group {feed.owner!r}")


async def stats(
    reads: Reads, tenant: str, reader_id: str, object_ids: Sequence[str]
) -> dict[str, items.Stats]:
    """Reply and reaction counts of the page's posts, and whether the reader reacted."""
    cache = reads.caches.stats
    counts: dict[str, items.Stats] = {}
    for object_id in object_ids:
        if (known := cache.get((tenant, reader_id, object_id))) is not None:
            counts[object_id] = known
    missing = [object_id for object_id in dict.fromkeys(object_ids) if object_id not in counts]
    if missing:
        async with reads.pool.acquire() as conn:
            loaded = await items.stats(conn, tenant, missing, reader_id)
        for object_id in missing:
            counts[object_id] = loaded.get(object_id) or items.Stats()
            cache.put((tenant, reader_id, object_id), counts[object_id])
    return counts


async def former(reads: Reads, tenant: str, people: Iterable[str]) -> frozenset[str]:
    """Those of ``people`` who are deactivated (former colleagues): from the cache, the rest
    in one query (then kept)."""
    cache = reads.caches.former
    found: set[str] = set()
    missing: list[str] = []
    for person in dict.fromkeys(people):
        known = cache.get((tenant, person))
        if known is None:
            missing.append(person)
        elif known:
            found.add(person)
    if missing:
        async with reads.pool.acquire() as conn:
            inactive = await graph.inactive_among(conn, tenant, missing)
        for person in missing:
            cache.put((tenant, person), person in inactive)
        found |= inactive
    return frozenset(found)
