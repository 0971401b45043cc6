"""What the fanout service does with each change (docs/architecture.md §5): keep its projections
and activity store current, push new items into the feeds of their audience, and take items
out of feeds when a post is deleted or a relation ends.

An activity is parsed once into a typed change (:func:`canopy_common.vocabulary.changes.
change_of`); :data:`HANDLERS` maps each change type to one :class:`Route`: the step that runs
inside the consumer's transaction, and the step that waits until it has committed (run by
:mod:`canopy_fanout.consumers` on the same connection, outside the transaction). Two things
wait: choosing a new item's audience, and copying recent items into a new follower's or
member's home. Each reads what the other writes, so each must run after its own write
commits: then however a post and a follow of its author interleave (on two partitions, or two
workers), one of them sees the other, and the follower gets the post. Removals still run in
the transaction; reads re-check visibility anyway. A redelivered activity runs its
after-commit step again (a crash may have come between the commit and it); every Redis write
is idempotent, so that is safe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from canopy_common.activities import Membership
from canopy_common.after_commit import Deferred
from canopy_common.db import Connection
from canopy_common.events import Visibility
from canopy_common.visibility import group_visibility_of
from canopy_common.vocabulary.changes import (
    Change,
    Edit,
    Erasure,
    Follow,
    NewGroup,
    NewItem,
    ProfileChange,
    Reaction,
    ReactionUndone,
    Removal,
    Restriction,
    ShareUndone,
)
from canopy_fanout.adapters import graph, items
from canopy_fanout.adapters.items import StoredItem
from canopy_fanout.delivery import (
    audience_everyone,
    backfill,
    distribute,
    home_feeds,
    recheck,
    source_feeds,
    withdraw,
)
from canopy_fanout.domain.model import FeedKind, FeedRef
from canopy_fanout.write_path import Fanout

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)

# Work that runs once the activity's transaction has committed, on the same connection: the
# one after-commit idiom (canopy_common.after_commit); the consumer defers what handlers return.
Pending = Deferred


class Step(Protocol[C_contra]):
    """A handler: the change applied in its activity's transaction (``apply``), or looked
    at again for a redelivery (``redo``); returns the after-commit work it leaves, if any."""

    def __call__(
        self, conn: Connection, change: C_contra, *, fanout: Fanout
    ) -> Awaitable[Pending | None]: ...


@dataclass(frozen=True, slots=True)
class Route(Generic[C]):
    """How one type of change is handled: ``apply`` for its first delivery, ``redo`` for a
    redelivery (the after-commit work again: a crash may have come between the commit and
    it), when its type leaves any."""

    apply: Step[C]
    redo: Step[C] | None = None


# --- items ------------------------------------------------------------------------------------


async def add_item(conn: Connection, change: NewItem, *, fanout: Fanout) -> Pending | None:
    """Store a new item, to be distributed after the commit; a reply is only counted on its
    post (it lives in its thread)."""
    item = change.item
    body = change.activity.public_view().model_dump(mode="json", by_alias=True, exclude_none=True)
    stored = StoredItem(item, body)
    if not await items.insert(conn, stored):
        return None  # its object was deleted first: it never shows
    if item.in_reply_to is not None:
        await items.count_reply(conn, item.tenant_id, item.in_reply_to, 1)
        return None
    await fanout.feeds.cache_bodies(item.tenant_id, {stored.entry: stored.cached()})
    return partial(distribute, stored=stored, fanout=fanout)


async def redistribute_item(conn: Connection, change: NewItem, *, fanout: Fanout) -> Pending | None:
    """A redelivered item is distributed again, as it was stored (unless it is a reply)."""
    stored = await items.by_activity(conn, change.item.tenant_id, change.item.activity_id)
    if stored is None or stored.item.in_reply_to is not None:
        return None
    return partial(distribute, stored=stored, fanout=fanout)


async def edit_item(conn: Connection, change: Edit, *, fanout: Fanout) -> Pending | None:
    """A new version of a post: every item carrying it is rewritten, and the feeds follow
    the change of its audience and hashtags."""
    edited, tenant = change.item, change.item.tenant_id
    obj_doc = change.obj.public_view().model_dump(mode="json", by_alias=True, exclude_none=True)
    changes = await items.replace_object(conn, tenant, edited.object_id, edited, obj_doc)
    for old, new in changes:
        await fanout.feeds.cache_bodies(tenant, {new.entry: new.cached()})
        if old.item.in_reply_to is not None:
            continue
        before = set(await audience_everyone(conn, old.item, fanout=fanout))
        after = set(await audience_everyone(conn, new.item, fanout=fanout))
        member = new.position.member
        await fanout.feeds.remove(tenant, home_feeds(sorted(before - after)), [member])
        gone_tags = [
            FeedRef(FeedKind.TAG, t) for t in sorted(old.item.hashtags - new.item.hashtags)
        ]
        await fanout.feeds.remove(tenant, gone_tags, [member])
        await fanout.feeds.push(
            tenant, [*source_feeds(new.item), *home_feeds(sorted(after))], [new.position]
        )
    return None


async def remove_object(conn: Connection, change: Removal, *, fanout: Fanout) -> Pending | None:
    """A deleted object's items leave every feed; a deleted reply uncounts itself."""
    tenant = change.tenant
    for stored in await items.delete_object(conn, tenant, change.object_id):
        await withdraw(conn, stored, fanout=fanout)
        if stored.item.in_reply_to is not None and stored.item.type == "Create":
            await items.count_reply(conn, tenant, stored.item.in_reply_to, -1)
    return None


async def erase_person(conn: Connection, change: Erasure, *, fanout: Fanout) -> Pending | None:
    """A person's erasure: their items leave every feed, their own feeds are dropped."""
    tenant, person = change.tenant, change.person
    await graph.erase_person(conn, tenant, person)
    for stored in await items.delete_by_person(conn, tenant, person):
        await withdraw(conn, stored, fanout=fanout)
    await fanout.feeds.drop(
        tenant, [FeedRef(FeedKind.HOME, person), FeedRef(FeedKind.USER, person)]
    )
    return fanout.members.forgetting(tenant, person)  # they may act no more


async def add_reaction(conn: Connection, change: Reaction, *, fanout: Fanout) -> Pending | None:
    """Count a reaction on its post."""
    await items.add_reaction(
        conn, change.tenant, change.object_id, change.actor, change.reaction, change.activity_id
    )
    return None


async def undo_reaction(
    conn: Connection, change: ReactionUndone, *, fanout: Fanout
) -> Pending | None:
    """Uncount a reaction."""
    await items.remove_reaction(conn, change.tenant, change.activity_id)
    return None


async def undo_share(conn: Connection, change: ShareUndone, *, fanout: Fanout) -> Pending | None:
    """A share undone: its item leaves every feed."""
    stored = await items.delete_activity(conn, change.tenant, change.activity_id)
    if stored is not None:
        await withdraw(conn, stored, fanout=fanout)
    return None


# --- people, groups and relations -------------------------------------------------------------


async def upsert_person(
    conn: Connection, change: ProfileChange, *, fanout: Fanout
) -> Pending | None:
    """Keep the person in the graph projection (their kind decides what they may see; a
    deactivated one gets no pushes, may not read, and their items stay, shown as a former
    colleague's on read: docs/architecture.md §16)."""
    await graph.upsert_person(conn, change.tenant, change.person, change.kind, change.active)
    forget_member = fanout.members.forgetting(change.tenant, change.person)

    async def forget(conn: Connection) -> None:  # after the commit: who may act changed
        await forget_member(conn)
        fanout.read_caches.forget_standing(change.tenant, change.person)

    return forget


async def add_group(conn: Connection, change: NewGroup, *, fanout: Fanout) -> Pending | None:
    """Keep the group in the graph projection."""
    await graph.upsert_group(
        conn, change.tenant, change.group_id, group_visibility(change.visibility)
    )
    return None


def group_visibility(visibility: Visibility | None) -> str:
    """Who sees a group's items as fanout's projection stores it: public, internal or group
    (the one rule's reading, canopy_common.visibility: anything else is members-only)."""
    return group_visibility_of(visibility).as2.value


async def follow(conn: Connection, change: Follow, *, fanout: Fanout) -> Pending | None:
    """A follow of a person or hashtag starts or ends; an unfollow takes out of the home what
    no longer belongs there. A new follow of a person wants a backfill after the commit."""
    tenant, follower = change.tenant, change.follower
    if change.hashtag is not None:
        await graph.follow_tag(conn, tenant, follower, change.hashtag, change.on)
        return None
    if change.followee is None:
        return None
    if change.on:
        if await graph.add_follow(conn, tenant, follower, change.followee):
            return partial(backfill_followee, change=change, fanout=fanout)
        return None
    if await graph.remove_follow(conn, tenant, follower, change.followee):
        await recheck(conn, tenant, follower, actors=[change.followee], fanout=fanout)
    return None


async def backfill_followee(conn: Connection, change: Follow, *, fanout: Fanout) -> None:
    """After the commit: the followed person's recent items into the follower's home."""
    if change.followee is not None:
        await backfill(
            conn, change.tenant, change.follower, actors=[change.followee], fanout=fanout
        )


async def refollow(conn: Connection, change: Follow, *, fanout: Fanout) -> Pending | None:
    """A redelivered follow of a person backfills again."""
    if change.on and change.followee is not None:
        return partial(backfill_followee, change=change, fanout=fanout)
    return None


async def change_membership(
    conn: Connection, change: Membership, *, fanout: Fanout
) -> Pending | None:
    """Someone joins (or is added to) or leaves (or is removed from) a group; a new member
    wants a backfill after the commit, a former one loses what no longer belongs."""
    tenant = change.tenant
    if change.group is not None and change.group.visibility is not None:
        visibility = group_visibility(change.group.visibility)
        await graph.upsert_group(conn, tenant, change.group_id, visibility)
    if change.joining:
        if await graph.add_member(conn, tenant, change.group_id, change.member):
            return partial(backfill_group, change=change, fanout=fanout)
        return None
    if await graph.remove_member(conn, tenant, change.group_id, change.member):
        await recheck(conn, tenant, change.member, groups=[change.group_id], fanout=fanout)
    return None


async def backfill_group(conn: Connection, change: Membership, *, fanout: Fanout) -> None:
    """After the commit: the group's recent items into the new member's home."""
    await backfill(conn, change.tenant, change.member, groups=[change.group_id], fanout=fanout)


async def rejoin(conn: Connection, change: Membership, *, fanout: Fanout) -> Pending | None:
    """A redelivered join or add backfills again."""
    return partial(backfill_group, change=change, fanout=fanout) if change.joining else None


async def restrict(conn: Connection, change: Restriction, *, fanout: Fanout) -> Pending | None:
    """A block (hides each from the other) or a mute (hides ``other`` from ``actor``'s home);
    lifting one brings nothing back at once (new posts and rebuilds do)."""
    tenant, actor, other = change.tenant, change.actor, change.other
    relation: graph.Relation = "blocks" if change.block else "mutes"
    await graph.relate(conn, relation, tenant, actor, other, change.on)
    if change.on:
        await recheck(conn, tenant, actor, actors=[other], fanout=fanout)
        if change.block:
            await recheck(conn, tenant, other, actors=[actor], fanout=fanout)
    return None


# --- dispatch ---------------------------------------------------------------------------------

# Every change type and how it is handled (a test checks none is missing).
HANDLERS: Mapping[type[Change], Route[Any]] = {
    NewItem: Route(add_item, redo=redistribute_item),
    Edit: Route(edit_item),
    Removal: Route(remove_object),
    Erasure: Route(erase_person),
    ProfileChange: Route(upsert_person),
    NewGroup: Route(add_group),
    Membership: Route(change_membership, redo=rejoin),
    Follow: Route(follow, redo=refollow),
    Restriction: Route(restrict),
    Reaction: Route(add_reaction),
    ReactionUndone: Route(undo_reaction),
    ShareUndone: Route(undo_share),
}


async def apply_change(conn: Connection, change: Change, *, fanout: Fanout) -> Pending | None:
    """Apply a first-delivered change in its activity's transaction; returns the work that
    waits for the commit, if any."""
    return await HANDLERS[type(change)].apply(conn, change, fanout=fanout)


async def redo_change(conn: Connection, change: Change, *, fanout: Fanout) -> Pending | None:
    """For a redelivered change: the after-commit work of its first delivery again, if any."""
    redo = HANDLERS[type(change)].redo
    return await redo(conn, change, fanout=fanout) if redo is not None else None
