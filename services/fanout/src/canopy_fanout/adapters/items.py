"""The activity store (``fanout.items``): a durable copy of every feed item, from which any
timeline can be rebuilt, plus reply and reaction counts. Repositories never commit: the
consumer or the request owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from canopy_common.db import Connection
from canopy_common.events import Visibility
from canopy_fanout.domain.entries import Position, entry_of, score_of
from canopy_fanout.domain.model import Item

Doc = dict[str, Any]

_COLUMNS = (
    "activity_id, entry, object_id, type, actor_id, author_id, visibility, group_id, "
    "group_visibility, addressees, mentions, hashtags, in_reply_to, published, score, deleted, body"
)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item with the body readers get (the activity, without ``bto``/``bcc``)."""

    item: Item
    body: Doc

    @property
    def entry(self) -> uuid.UUID:
        return entry_of(self.item.activity_id)

    @property
    def position(self) -> Position:
        return Position(score_of(self.item.published), self.entry.bytes)

    def cached(self) -> bytes:
        """The form kept in Redis: the facts reads re-check, and the body."""
        item = self.item
        facts = {
            "tenant": item.tenant_id,
            "activity": item.activity_id,
            "object": item.object_id,
            "type": item.type,
            "actor": item.actor_id,
            "author": item.author_id,
            "visibility": item.visibility.value,
            "published": item.published.isoformat(),
            "group": item.group_id,
            "group_visibility": item.group_visibility.value if item.group_visibility else None,
            "addressees": sorted(item.addressees),
            "mentions": sorted(item.mentions),
            "hashtags": sorted(item.hashtags),
            "in_reply_to": item.in_reply_to,
        }
        return orjson.dumps({"facts": facts, "body": self.body})

    @classmethod
    def from_cache(cls, raw: bytes) -> StoredItem:
        doc = orjson.loads(raw)
        facts = doc["facts"]
        group_visibility = facts["group_visibility"]
        item = Item(
            tenant_id=facts["tenant"],
            activity_id=facts["activity"],
            object_id=facts["object"],
            type=facts["type"],
            actor_id=facts["actor"],
            author_id=facts["author"],
            visibility=Visibility(facts["visibility"]),
            published=datetime.fromisoformat(facts["published"]),
            group_id=facts["group"],
            group_visibility=Visibility(group_visibility) if group_visibility else None,
            addressees=frozenset(facts["addressees"]),
            mentions=frozenset(facts["mentions"]),
            hashtags=frozenset(facts["hashtags"]),
            in_reply_to=facts["in_reply_to"],
        )
        return cls(item, doc["body"])


def _stored(tenant: str, row: asyncpg.Record) -> StoredItem:
    group_visibility = row["group_visibility"]
    item = Item(
        tenant_id=tenant,
        activity_id=row["activity_id"],
        object_id=row["object_id"],
        type=row["type"],
        actor_id=row["actor_id"],
        author_id=row["author_id"],
        visibility=Visibility(row["visibility"]),
        published=row["published"],
        group_id=row["group_id"],
        group_visibility=Visibility(group_visibility) if group_visibility else None,
        addressees=frozenset(row["addressees"]),
        mentions=frozenset(row["mentions"]),
        hashtags=frozenset(row["hashtags"]),
        in_reply_to=row["in_reply_to"],
        deleted=row["deleted"],
    )
    return StoredItem(item, row["body"])


async def insert(conn: Connection, stored: StoredItem) -> bool:
    """Store an item; False when it is already stored or its object was deleted."""
    item = stored.item
    status = await conn.execute(
        f"INSERT INTO items (tenant_id, {_COLUMNS}) "
        "SELECT $16, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $17, false, $15 "
        "WHERE NOT EXISTS "
        "(SELECT 1 FROM deleted_objects WHERE tenant_id = $16 AND object_id = $3) "
        "ON CONFLICT DO NOTHING",
        item.activity_id,
        stored.entry,
        item.object_id,
        item.type,
        item.actor_id,
        item.author_id,
        item.visibility.value,
        item.group_id,
        item.group_visibility.value if item.group_visibility else None,
        sorted(item.addressees),
        sorted(item.mentions),
        sorted(item.hashtags),
        item.in_reply_to,
        item.published,
        stored.body,
        item.tenant_id,
        score_of(item.published),
    )
    # Postgres reports "INSERT 0 1" for a row stored, "INSERT 0 0" otherwise.
    return bool(status.endswith(" 1"))


async def of_object(conn: Connection, tenant: str, object_id: str) -> list[StoredItem]:
    """Every live item of an object: its Create and its shares."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM items WHERE tenant_id = $1 AND object_id = $2 AND NOT deleted",
        tenant,
        object_id,
    )
    return [_stored(tenant, row) for row in rows]


async def by_activity(conn: Connection, tenant: str, activity_id: str) -> StoredItem | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM items WHERE tenant_id = $1 AND activity_id = $2",
        tenant,
        activity_id,
    )
    return _stored(tenant, row) if row is not None else None


async def by_entries(
    conn: Connection, tenant: str, entries: Sequence[uuid.UUID]
) -> dict[uuid.UUID, StoredItem]:
    """The items behind timeline members (deleted ones included, so reads can drop them)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM items WHERE tenant_id = $1 AND entry = ANY($2::uuid[])",
        tenant,
        list(entries),
    )
    return {row["entry"]: _stored(tenant, row) for row in rows}


async def replace_object(
    conn: Connection, tenant: str, object_id: str, changed: Item, obj: Doc
) -> list[tuple[StoredItem, StoredItem]]:
    """An edited object: every item carrying it gets the new object and its facts (who it is
    for, mentions, hashtags). Returns each item before and after."""
    before = await of_object(conn, tenant, object_id)
    after: list[tuple[StoredItem, StoredItem]] = []
    for old in before:
        item = replace(
            old.item,
            visibility=changed.visibility,
            addressees=changed.addressees if old.item.type == "Create" else old.item.addressees,
            mentions=changed.mentions,
            hashtags=changed.hashtags,
        )
        body = {**old.body, "object": obj}
        await conn.execute(
            "UPDATE items SET visibility = $3, addressees = $4, mentions = $5, hashtags = $6, "
            "body = $7 WHERE tenant_id = $1 AND activity_id = $2",
            tenant,
            item.activity_id,
            item.visibility.value,
            sorted(item.addressees),
            sorted(item.mentions),
            sorted(item.hashtags),
            body,
        )
        after.append((old, StoredItem(item, body)))
    return after


async def delete_object(conn: Connection, tenant: str, object_id: str) -> list[StoredItem]:
    """Mark every item of a deleted object deleted (a late Create stays out too); returns the
    items it had."""
    await conn.execute(
        "INSERT INTO deleted_objects (tenant_id, object_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        tenant,
        object_id,
    )
    rows = await conn.fetch(
        f"UPDATE items SET deleted = true WHERE tenant_id = $1 AND object_id = $2 "
        f"AND NOT deleted RETURNING {_COLUMNS}",
        tenant,
        object_id,
    )
    return [_stored(tenant, row) for row in rows]


async def delete_activity(conn: Connection, tenant: str, activity_id: str) -> StoredItem | None:
    """Mark one item deleted (an undone share); returns it as it was."""
    row = await conn.fetchrow(
        f"UPDATE items SET deleted = true WHERE tenant_id = $1 AND activity_id = $2 "
        f"AND NOT deleted RETURNING {_COLUMNS}",
        tenant,
        activity_id,
    )
    return _stored(tenant, row) if row is not None else None


async def delete_by_person(conn: Connection, tenant: str, user_id: str) -> list[StoredItem]:
    """Erasure: every item a person wrote or shared is deleted."""
    rows = await conn.fetch(
        f"UPDATE items SET deleted = true WHERE tenant_id = $1 "
        f"AND (actor_id = $2 OR author_id = $2) AND NOT deleted RETURNING {_COLUMNS}",
        tenant,
        user_id,
    )
    return [_stored(tenant, row) for row in rows]


async def recent(
    conn: Connection,
    tenant: str,
    *,
    actors: Iterable[str] = (),
    groups: Iterable[str] = (),
    tags: Iterable[str] = (),
    named: str | None = None,
    before: Position | None = None,
    limit: int,
) -> list[StoredItem]:
    """The newest live feed items (no replies) by any of ``actors``, in any of ``groups``,
    with any of ``tags``, or mentioning or addressed to ``named`` — older than ``before``.

    One index scan per kind of source, each limited, then merged: never a scan of the tenant.
    """
    args: list[Any] = [tenant, limit]

    def param(value: Any, cast: str) -> str:
        args.append(value)
        return f"${len(args)}::{cast}"

    bound = ""
    if before is not None:
        score, entry = param(before.score, "bigint"), param(uuid.UUID(bytes=before.member), "uuid")
        bound = f"AND (score, entry) < ({score}, {entry})"
    sources = []
    if actors := list(actors):
        sources.append(f"actor_id = ANY({param(actors, 'text[]')})")
    if groups := list(groups):
        sources.append(f"group_id = ANY({param(groups, 'text[]')})")
    if tags := list(tags):
        sources.append(f"hashtags && {param(tags, 'text[]')}")
    if named is not None:
        who = param(named, "text")
        sources += [f"mentions @> ARRAY[{who}]", f"addressees @> ARRAY[{who}]"]
    if not sources:
        return []
    branches = " UNION ".join(
        f"(SELECT activity_id FROM items WHERE tenant_id = $1 "
        f"AND in_reply_to IS NULL AND NOT deleted AND {source} {bound} "
        f"ORDER BY score DESC, entry DESC LIMIT $2)"
        for source in sources
    )
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM items WHERE tenant_id = $1 AND activity_id IN "
        f"(SELECT activity_id FROM ({branches}) AS found) "
        "ORDER BY score DESC, entry DESC LIMIT $2",
        *args,
    )
    return [_stored(tenant, row) for row in rows]


# Ingestion lets a group pin at most 5 posts (canopy_ingestion.domain.pins.MAX_PINS); this
# bounds what a read loads whatever the pins projection holds.
PINS_SHOWN = 20


async def pinned(conn: Connection, tenant: str, group_id: str) -> list[StoredItem]:
    """The live posts (their ``Create`` items) a group has pinned (``adapters.pins``), newest
    pin first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM items JOIN ("
        "  SELECT object_id, changed_at FROM pins "
        "  WHERE tenant_id = $1 AND group_id = $2 AND pinned"
        ") AS p USING (object_id) "
        "WHERE items.tenant_id = $1 AND items.group_id = $2 AND type = 'Create' AND NOT deleted "
        "ORDER BY p.changed_at DESC, object_id LIMIT $3",
        tenant,
        group_id,
        PINS_SHOWN,
    )
    return [_stored(tenant, row) for row in rows]


# --- counts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stats:
    replies: int = 0
    reactions: int = 0
    reacted: bool = False


async def count_reply(conn: Connection, tenant: str, parent_id: str, delta: int) -> None:
    await conn.execute(
        "INSERT INTO post_stats (tenant_id, object_id, replies) VALUES ($1, $2, GREATEST($3, 0)) "
        "ON CONFLICT (tenant_id, object_id) "
        "DO UPDATE SET replies = GREATEST(post_stats.replies + $3, 0)",
        tenant,
        parent_id,
        delta,
    )


async def add_reaction(
    conn: Connection, tenant: str, object_id: str, user_id: str, kind: str, activity_id: str
) -> None:
    added = await conn.fetchval(
        "INSERT INTO reactions (tenant_id, object_id, user_id, kind, activity_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        tenant,
        object_id,
        user_id,
        kind,
        activity_id,
    )
    if added:
        await _count_reaction(conn, tenant, object_id, 1)


async def remove_reaction(conn: Connection, tenant: str, like_id: str) -> None:
    object_id = await conn.fetchval(
        "DELETE FROM reactions WHERE tenant_id = $1 AND activity_id = $2 RETURNING object_id",
        tenant,
        like_id,
    )
    if object_id is not None:
        await _count_reaction(conn, tenant, object_id, -1)


async def _count_reaction(conn: Connection, tenant: str, object_id: str, delta: int) -> None:
    await conn.execute(
        "INSERT INTO post_stats (tenant_id, object_id, reactions) "
        "VALUES ($1, $2, GREATEST($3, 0)) ON CONFLICT (tenant_id, object_id) "
        "DO UPDATE SET reactions = GREATEST(post_stats.reactions + $3, 0)",
        tenant,
        object_id,
        delta,
    )


async def stats(
    conn: Connection, tenant: str, object_ids: Sequence[str], reader: str
) -> dict[str, Stats]:
    """Reply and reaction counts of posts, and whether ``reader`` reacted to each."""
    rows = await conn.fetch(
        "SELECT o.id, coalesce(s.replies, 0) AS replies, coalesce(s.reactions, 0) AS reactions, "
        "EXISTS (SELECT 1 FROM reactions r WHERE r.tenant_id = $1 AND r.object_id = o.id "
        "        AND r.user_id = $3) AS reacted "
        "FROM unnest($2::text[]) AS o(id) "
        "LEFT JOIN post_stats s ON s.tenant_id = $1 AND s.object_id = o.id",
        tenant,
        list(object_ids),
        reader,
    )
    return {row["id"]: Stats(row["replies"], row["reactions"], row["reacted"]) for row in rows}
