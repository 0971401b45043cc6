"""Putting items into feeds and taking them out (docs/architecture.md §5): who an item goes to is
decided in :mod:`canopy_fanout.domain.audience`; this writes it. Every Redis write is
idempotent (ZADD of the same member and score, ZREM), so any of these may run again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from canopy_common.db import Connection
from canopy_fanout.adapters import graph, items
from canopy_fanout.adapters.items import StoredItem
from canopy_fanout.chunks import observe_latency, publish_chunks
from canopy_fanout.domain.audience import delivers, resolve_audience
from canopy_fanout.domain.model import FeedKind, FeedRef, Item
from canopy_fanout.write_path import Fanout


def source_feeds(item: Item) -> list[FeedRef]:
    """The feeds an item always goes into: its actor's, its group's, its hashtags'."""
    found = [FeedRef(FeedKind.USER, item.actor_id)]
    if item.group_id is not None:
        found.append(FeedRef(FeedKind.GROUP, item.group_id))
    found += [FeedRef(FeedKind.TAG, tag) for tag in sorted(item.hashtags)]
    return found


def home_feeds(readers: Iterable[str]) -> list[FeedRef]:
    """The home feeds of ``readers``."""
    return [FeedRef(FeedKind.HOME, reader) for reader in readers]


async def distribute(conn: Connection, stored: StoredItem, *, fanout: Fanout) -> int:
    """Push an item into its source feeds and its audience's home feeds; audiences over
    ``spread_over`` go out as chunks on the work topic. Returns the number of readers chosen."""
    item, feeds, settings = stored.item, fanout.feeds, fanout.settings
    position = stored.position
    await feeds.push(item.tenant_id, source_feeds(item), [position])
    found = await graph.candidates(conn, item, push_limit=settings.push_limit)
    if found.actor_pulled:
        fanout.metrics.pulled.labels("person").inc()
    if found.group_pulled:
        fanout.metrics.pulled.labels("group").inc()
    readers = resolve_audience(item, found.cohorts)
    fanout.metrics.recipients.observe(len(readers))
    if len(readers) > settings.spread_over:
        await publish_chunks(item, position, readers, fanout=fanout)
    else:
        await feeds.push_homes(item.tenant_id, readers, [position])
        observe_latency(fanout.metrics, item.published, "direct")
    return len(readers)


async def withdraw(conn: Connection, stored: StoredItem, *, fanout: Fanout) -> None:
    """Take an item out of every feed that may hold it, and out of the body cache."""
    item = stored.item
    readers = await audience_everyone(conn, item, fanout=fanout)
    feeds = [*source_feeds(item), *home_feeds(readers)]
    await fanout.feeds.remove(item.tenant_id, feeds, [stored.position.member])
    await fanout.feeds.forget_bodies(item.tenant_id, [stored.entry])


async def audience_everyone(conn: Connection, item: Item, *, fanout: Fanout) -> list[str]:
    """Whoever the item goes to (pushes reached only those with a timeline)."""
    found = await graph.candidates(conn, item, push_limit=fanout.settings.push_limit)
    return resolve_audience(item, found.cohorts)


async def backfill(
    conn: Connection,
    tenant: str,
    reader: str,
    *,
    actors: Sequence[str] = (),
    groups: Sequence[str] = (),
    fanout: Fanout,
) -> None:
    """Copy the recent items of newly followed people or joined groups into a built home."""
    limit = fanout.settings.backfill
    if limit == 0 or not await _home_built(fanout, tenant, reader):
        return  # a missing home feed is rebuilt whole on its next read
    found = await graph.reader_graph(conn, tenant, reader, push_limit=fanout.settings.push_limit)
    recent = await items.recent(conn, tenant, actors=actors, groups=groups, limit=limit)
    entries = [s.position for s in recent if delivers(found.reader, s.item, found.ties(s.item))]
    await fanout.feeds.push(tenant, home_feeds([reader]), entries)


async def recheck(
    conn: Connection,
    tenant: str,
    reader: str,
    *,
    actors: Sequence[str] = (),
    groups: Sequence[str] = (),
    fanout: Fanout,
) -> None:
    """After a relation ended: take out of the reader's home the items of those people or
    groups that no longer belong there (kept when another reason still holds)."""
    if not await _home_built(fanout, tenant, reader):
        return
    found = await graph.reader_graph(conn, tenant, reader, push_limit=fanout.settings.push_limit)
    recent = await items.recent(
        conn, tenant, actors=actors, groups=groups, limit=fanout.settings.feed_cap
    )
    gone = [
        s.position.member for s in recent if not delivers(found.reader, s.item, found.ties(s.item))
    ]
    await fanout.feeds.remove(tenant, home_feeds([reader]), gone)


async def _home_built(fanout: Fanout, tenant: str, reader: str) -> bool:
    [built] = await fanout.feeds.built(tenant, home_feeds([reader]))
    return built
