"""What the fanout service does with each activity (docs/architecture.md §5): keep its projections
and activity store current, push new items into the feeds of their audience, and take items
out of feeds when a post is deleted or a relation ends.

:func:`apply_activity` runs inside the consumer's transaction (``conn``). Two things wait until
it has committed (``later``, run by :mod:`canopy_fanout.consumers` on a fresh connection):
choosing a new item's audience, and copying recent items into a new follower's or member's
home. Each reads what the other writes, so each must run after its own write commits: then
however a post and a follow of its author interleave (on two partitions, or two workers), one
of them sees the other, and the follower gets the post. Removals still run in the
transaction; reads re-check visibility anyway. Every Redis write is idempotent (ZADD of the
same member and score, ZREM), and :func:`redo_later` repeats the deferred part for a
redelivered activity, in case a crash came between the commit and it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import structlog

from canopy_common.activities import (
    activity_type,
    as_object,
    edited_item,
    is_join_request,
    item_of,
    user_id,
)
from canopy_common.db import Connection
from canopy_common.errors import InvalidInput
from canopy_common.events import StrictActivity, ref_ids
from canopy_common.iris import parse_name
from canopy_common.visibility import group_visibility_of
from canopy_fanout.adapters import graph, items
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.adapters.items import StoredItem
from canopy_fanout.domain.audience import delivers, resolve_audience
from canopy_fanout.domain.entries import Position
from canopy_fanout.domain.model import FeedKind, FeedRef, Item
from canopy_fanout.metrics import FanoutMetrics
from canopy_fanout.settings import Settings

log = structlog.get_logger(__name__)

# (key, value, chunk number) onto the work topic
Publish = Callable[[str, bytes, int], Awaitable[Any]]
# Work that runs after the activity's transaction commits, on a connection of its own.
AfterCommit = Callable[[Connection], Awaitable[Any]]
EVERYONE_SINCE = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Fanout:
    """The collaborators of the write path."""

    feeds: FeedStore
    settings: Settings
    metrics: FanoutMetrics
    publish_work: Publish


# --- entry point ------------------------------------------------------------------------------


async def apply_activity(
    conn: Connection, activity: StrictActivity, *, fanout: Fanout, later: list[AfterCommit]
) -> None:
    """Apply one (first-delivered) activity; what must wait for the commit goes to ``later``."""
    tenant = activity.tenant
    kind = activity_type(activity)
    obj = as_object(activity.object)
    obj_type = _type(obj)
    actor = user_id(tenant, activity.actor)
    match kind:
        case "Create" | "Announce" if (item := item_of(activity)) is not None:
            await _new_item(conn, activity, item, fanout=fanout, later=later)
        case "Create" | "Update" if obj_type == "Person":
            person = user_id(tenant, obj.id if obj else None)
            if person is not None and obj is not None:
                await graph.upsert_person(conn, tenant, person, _extra(obj, "kind") or "employee")
        case "Create" if obj_type == "Group" and obj is not None and obj.id:
            await graph.upsert_group(conn, tenant, obj.id, _group_visibility(obj))
        case "Update" | "Accept" if (edited := edited_item(activity)) is not None:
            await _edit(conn, activity, edited, fanout=fanout)
        case "Delete":
            await _delete(conn, activity, fanout=fanout)
        case "Like" if actor is not None and obj is not None and obj.id:
            reaction = str((activity.model_extra or {}).get("reaction") or "like")
            await items.add_reaction(conn, tenant, obj.id, actor, reaction, activity.id)
        case "Follow" if actor is not None:
            await _follow(conn, tenant, actor, activity, on=True, fanout=fanout, later=later)
        case "Join" if is_join_request(activity):
            log.debug("join request ignored: the requester is no member until added")
        case "Join" | "Add" | "Leave" | "Remove":
            await _membership(conn, activity, kind, fanout=fanout, later=later)
        case "Block" | "Ignore" if actor is not None:
            other = user_id(tenant, activity.object)
            if other is not None:
                await _restrict(conn, tenant, actor, other, kind, on=True, fanout=fanout)
        case "Undo" if actor is not None and obj is not None:
            await _undo(conn, tenant, actor, obj, fanout=fanout)
        case _:
            log.debug("activity ignored", type=kind)


# --- new items --------------------------------------------------------------------------------


async def redo_later(
    conn: Connection, activity: StrictActivity, *, fanout: Fanout, later: list[AfterCommit]
) -> None:
    """For a redelivered activity: the deferred part of its first delivery again (a crash may
    have come between that commit and it). Pushes are idempotent."""
    tenant, kind = activity.tenant, activity_type(activity)
    actor = user_id(tenant, activity.actor)
    if kind in ("Create", "Announce") and item_of(activity) is not None:
        stored = await items.by_activity(conn, tenant, activity.id)
        if stored is not None and stored.item.in_reply_to is None:
            later.append(lambda c: distribute(c, stored, fanout=fanout))
    elif kind == "Follow" and actor is not None:
        followee = user_id(tenant, ref_ids(activity.object)[0] if activity.object else None)
        if followee is not None and followee != actor:
            later.append(lambda c: backfill(c, tenant, actor, actors=[followee], fanout=fanout))


async def _new_item(
    conn: Connection,
    activity: StrictActivity,
    item: Item,
    *,
    fanout: Fanout,
    later: list[AfterCommit],
) -> None:
    body = activity.public_view().model_dump(mode="json", by_alias=True, exclude_none=True)
    stored = StoredItem(item, body)
    if not await items.insert(conn, stored):
        return  # its object was deleted first: it never shows
    if item.in_reply_to is not None:
        await items.count_reply(conn, item.tenant_id, item.in_reply_to, 1)
        return  # replies live in their thread, counted on their post
    await fanout.feeds.cache_bodies(item.tenant_id, {stored.entry: stored.cached()})
    later.append(lambda c: distribute(c, stored, fanout=fanout))


async def distribute(conn: Connection, stored: StoredItem, *, fanout: Fanout) -> int:
    """Push an item into its source feeds and its audience's home feeds; big audiences go out
    as chunks on the work topic. Returns the number of readers chosen."""
    item, feeds, settings = stored.item, fanout.feeds, fanout.settings
    position = stored.position
    await feeds.push(item.tenant_id, source_feeds(item), [position])
    active_since = datetime.now(UTC) - timedelta(seconds=settings.active_window_s)
    found = await graph.candidates(
        conn, item, push_limit=settings.push_limit, active_since=active_since
    )
    if found.actor_pulled:
        fanout.metrics.pulled.labels("person").inc()
    if found.group_pulled:
        fanout.metrics.pulled.labels("group").inc()
    readers = resolve_audience(item, found.readers, found.ties)
    fanout.metrics.recipients.observe(len(readers))
    if len(readers) > settings.chunk_size:
        await _publish_chunks(item, position, readers, fanout=fanout)
    else:
        await feeds.push_homes(item.tenant_id, readers, [position])
        observe_latency(fanout.metrics, item.published, "direct")
    return len(readers)


def source_feeds(item: Item) -> list[FeedRef]:
    """The feeds an item always goes into: its actor's, its group's, its hashtags'."""
    found = [FeedRef(FeedKind.USER, item.actor_id)]
    if item.group_id is not None:
        found.append(FeedRef(FeedKind.GROUP, item.group_id))
    found += [FeedRef(FeedKind.TAG, tag) for tag in sorted(item.hashtags)]
    return found


def home_feeds(readers: Iterable[str]) -> list[FeedRef]:
    return [FeedRef(FeedKind.HOME, reader) for reader in readers]


def observe_latency(metrics: FanoutMetrics, published: datetime, path: str) -> None:
    metrics.latency.labels(path).observe(max(time.time() - published.timestamp(), 0.0))


# --- chunks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """One slice of a big fan-out, as carried on ``canopy.fanout.work.v1``."""

    tenant: str
    activity_id: str
    position: Position
    published: datetime
    readers: list[str]

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "tenant": self.tenant,
                "activity": self.activity_id,
                "score": self.position.score,
                "entry": self.position.member.hex(),
                "published": self.published.isoformat(),
                "readers": self.readers,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> Chunk:
        """Parse a work record; :class:`InvalidInput` (dead-lettered) for anything else."""
        try:
            doc = orjson.loads(raw)
            readers = doc["readers"]
            if not isinstance(readers, list) or not all(isinstance(r, str) for r in readers):
                raise TypeError("readers must be a list of user ids")
            member = bytes.fromhex(doc["entry"])
            if len(member) != 16:
                raise ValueError("entry must be 16 bytes")
            return cls(
                tenant=str(doc["tenant"]),
                activity_id=str(doc["activity"]),
                position=Position(int(doc["score"]), member),
                published=datetime.fromisoformat(doc["published"]),
                readers=readers,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a fan-out work chunk: {exc}") from exc


async def _publish_chunks(
    item: Item, position: Position, readers: Sequence[str], *, fanout: Fanout
) -> None:
    size = fanout.settings.chunk_size
    chunks = [
        Chunk(
            item.tenant_id, item.activity_id, position, item.published, list(readers[i : i + size])
        )
        for i in range(0, len(readers), size)
    ]
    await asyncio.gather(
        *(
            fanout.publish_work(f"{item.tenant_id}:{item.activity_id}", chunk.encode(), n)
            for n, chunk in enumerate(chunks)
        )
    )
    fanout.metrics.chunks.labels("published").inc(len(chunks))


async def apply_chunk(chunk: Chunk, *, fanout: Fanout) -> None:
    """Write one chunk into its readers' home feeds (idempotent)."""
    await fanout.feeds.push_homes(chunk.tenant, chunk.readers, [chunk.position])
    fanout.metrics.chunks.labels("applied").inc()
    observe_latency(fanout.metrics, chunk.published, "chunk")


# --- edits and deletes ------------------------------------------------------------------------


async def _edit(
    conn: Connection, activity: StrictActivity, edited: Item, *, fanout: Fanout
) -> None:
    obj = activity.object if activity_type(activity) == "Update" else activity.target
    doc = as_object(obj)
    if doc is None:
        return
    obj_doc = doc.public_view().model_dump(mode="json", by_alias=True, exclude_none=True)
    changes = await items.replace_object(conn, edited.tenant_id, edited.object_id, edited, obj_doc)
    tenant = edited.tenant_id
    for old, new in changes:
        await fanout.feeds.cache_bodies(tenant, {new.entry: new.cached()})
        if old.item.in_reply_to is not None:
            continue
        before = set(await _audience_everyone(conn, old.item, fanout=fanout))
        after = set(await _audience_everyone(conn, new.item, fanout=fanout))
        member = new.position.member
        await fanout.feeds.remove(tenant, home_feeds(sorted(before - after)), [member])
        gone_tags = [
            FeedRef(FeedKind.TAG, t) for t in sorted(old.item.hashtags - new.item.hashtags)
        ]
        await fanout.feeds.remove(tenant, gone_tags, [member])
        await fanout.feeds.push(
            tenant, [*source_feeds(new.item), *home_feeds(sorted(after))], [new.position]
        )


async def _delete(conn: Connection, activity: StrictActivity, *, fanout: Fanout) -> None:
    tenant = activity.tenant
    obj = as_object(activity.object)
    object_id = obj.id if obj is not None else next(iter(_ids(activity.object)), None)
    if object_id is None:
        return
    former = _extra(obj, "formerType") if obj is not None else None
    person = user_id(tenant, object_id)
    if former == "Person" or person is not None:
        if person is not None:
            await _erase(conn, tenant, person, fanout=fanout)
        return
    for stored in await items.delete_object(conn, tenant, object_id):
        await withdraw(conn, stored, fanout=fanout)
        if stored.item.in_reply_to is not None and stored.item.type == "Create":
            await items.count_reply(conn, tenant, stored.item.in_reply_to, -1)


async def _erase(conn: Connection, tenant: str, person: str, *, fanout: Fanout) -> None:
    """A person's erasure: their items leave every feed, their own feeds are dropped."""
    await graph.deactivate_person(conn, tenant, person)
    for stored in await items.delete_by_person(conn, tenant, person):
        await withdraw(conn, stored, fanout=fanout)
    await fanout.feeds.drop(
        tenant, [FeedRef(FeedKind.HOME, person), FeedRef(FeedKind.USER, person)]
    )


async def withdraw(conn: Connection, stored: StoredItem, *, fanout: Fanout) -> None:
    """Take an item out of every feed that may hold it, and out of the body cache."""
    item = stored.item
    readers = await _audience_everyone(conn, item, fanout=fanout)
    feeds = [*source_feeds(item), *home_feeds(readers)]
    await fanout.feeds.remove(item.tenant_id, feeds, [stored.position.member])
    await fanout.feeds.forget_bodies(item.tenant_id, [stored.entry])


async def _audience_everyone(conn: Connection, item: Item, *, fanout: Fanout) -> list[str]:
    """Whoever the item goes to, active or not (pushes reached only the active)."""
    found = await graph.candidates(
        conn, item, push_limit=fanout.settings.push_limit, active_since=EVERYONE_SINCE
    )
    return resolve_audience(item, found.readers, found.ties)


# --- relations --------------------------------------------------------------------------------


async def _follow(
    conn: Connection,
    tenant: str,
    actor: str,
    follow: StrictActivity | Any,
    *,
    on: bool,
    fanout: Fanout,
    later: list[AfterCommit] | None = None,
) -> None:
    target = as_object(follow.object)
    target_id = target.id if target is not None else next(iter(_ids(follow.object)), None)
    if target_id is None:
        return
    name = parse_name(target_id)
    if name is not None and name.kind == "tag" and name.tenant == tenant:
        await graph.follow_tag(conn, tenant, actor, name.key, on)
        return
    followee = user_id(tenant, target_id)
    if followee is None or followee == actor:
        return
    if on:
        if await graph.add_follow(conn, tenant, actor, followee) and later is not None:
            later.append(lambda c: backfill(c, tenant, actor, actors=[followee], fanout=fanout))
    elif await graph.remove_follow(conn, tenant, actor, followee):
        await recheck(conn, tenant, actor, actors=[followee], fanout=fanout)


async def _membership(
    conn: Connection,
    activity: StrictActivity,
    kind: str,
    *,
    fanout: Fanout,
    later: list[AfterCommit],
) -> None:
    tenant = activity.tenant
    if kind in ("Join", "Leave"):  # the actor joins or leaves the group (object)
        member = user_id(tenant, activity.actor)
        group_doc = as_object(activity.object) or as_object(activity.target)
        group_id = next(iter(_ids(activity.object)), None)
    else:  # an admin adds or removes the person (object) to or from the group (target)
        member = user_id(tenant, activity.object)
        group_doc = as_object(activity.target)
        group_id = next(iter(_ids(activity.target)), None)
    if member is None or group_id is None:
        return
    if group_doc is not None and group_doc.visibility is not None:
        await graph.upsert_group(conn, tenant, group_id, _group_visibility(group_doc))
    if kind in ("Join", "Add"):
        if await graph.add_member(conn, tenant, group_id, member):
            later.append(lambda c: backfill(c, tenant, member, groups=[group_id], fanout=fanout))
    elif await graph.remove_member(conn, tenant, group_id, member):
        await recheck(conn, tenant, member, groups=[group_id], fanout=fanout)


async def _restrict(
    conn: Connection,
    tenant: str,
    actor: str,
    other: str,
    kind: str,
    *,
    on: bool,
    fanout: Fanout,
) -> None:
    """A block (hides each from the other) or a mute (hides ``other`` from ``actor``'s home)."""
    relation: graph.Relation = "blocks" if kind == "Block" else "mutes"
    await graph.relate(conn, relation, tenant, actor, other, on)
    if not on:
        return  # their items come back with new posts and rebuilds
    await recheck(conn, tenant, actor, actors=[other], fanout=fanout)
    if kind == "Block":
        await recheck(conn, tenant, other, actors=[actor], fanout=fanout)


async def _undo(conn: Connection, tenant: str, actor: str, undone: Any, *, fanout: Fanout) -> None:
    match _type(undone):
        case "Follow":
            await _follow(conn, tenant, actor, undone, on=False, fanout=fanout)
        case "Block" | "Ignore" as restriction:
            other = user_id(tenant, undone.object)
            if other is not None:
                await _restrict(conn, tenant, actor, other, restriction, on=False, fanout=fanout)
        case "Like" if undone.id:
            await items.remove_reaction(conn, tenant, undone.id)
        case "Announce" if undone.id:
            stored = await items.delete_activity(conn, tenant, undone.id)
            if stored is not None:
                await withdraw(conn, stored, fanout=fanout)


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


# --- small readers --------------------------------------------------------------------------


def _type(obj: Any) -> str | None:
    kind = getattr(obj, "type", None)
    return (kind[0] if kind else None) if isinstance(kind, list) else kind


def _extra(obj: Any, name: str) -> str | None:
    value = (getattr(obj, "model_extra", None) or {}).get(name)
    return str(value) if value is not None else None


def _group_visibility(obj: Any) -> str:
    return group_visibility_of(getattr(obj, "visibility", None)).as2.value


def _ids(refs: Any) -> list[str]:
    return ref_ids(refs)
