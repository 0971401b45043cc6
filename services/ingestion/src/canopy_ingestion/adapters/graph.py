"""The social graph in the ``ingestion`` schema: follows, tag follows, blocks, mutes.

Each relation is a row (owner → target) holding the id of the activity that created it, so
the Undo that ends it names it. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from canopy_common.db import Connection


@dataclass(frozen=True)
class RelationKind:
    """A relation table and its (owner, target) columns."""

    table: str
    owner: str
    target: str


FOLLOW = RelationKind("follows", "follower_id", "followee_id")
TAG_FOLLOW = RelationKind("tag_follows", "user_id", "tag")
BLOCK = RelationKind("blocks", "blocker_id", "blocked_id")
MUTE = RelationKind("mutes", "user_id", "muted_id")


@dataclass(frozen=True)
class Relation:
    """One stored relation: who → what, since when, created by which activity (None for rows
    that predate activity ids)."""

    owner_id: str
    target: str
    since: datetime
    activity_id: str | None


def _select(kind: RelationKind) -> str:
    return f"{kind.owner} AS owner_id, {kind.target} AS target, created_at AS since, activity_id"


async def get_relation(
    conn: Connection, kind: RelationKind, tenant_id: str, owner_id: str, target: str
) -> Relation | None:
    row = await conn.fetchrow(
        f"SELECT {_select(kind)} FROM {kind.table} "
        f"WHERE tenant_id = $1 AND {kind.owner} = $2 AND {kind.target} = $3",
        tenant_id,
        owner_id,
        target,
    )
    return Relation(**dict(row)) if row else None


async def add_relation(
    conn: Connection,
    kind: RelationKind,
    tenant_id: str,
    owner_id: str,
    target: str,
    *,
    activity_id: str,
) -> Relation | None:
    """Insert the relation; None when it already existed (the caller then emits nothing)."""
    row = await conn.fetchrow(
        f"INSERT INTO {kind.table} (tenant_id, {kind.owner}, {kind.target}, activity_id) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING "
        f"RETURNING {_select(kind)}",
        tenant_id,
        owner_id,
        target,
        activity_id,
    )
    return Relation(**dict(row)) if row else None


async def remove_relation(
    conn: Connection, kind: RelationKind, tenant_id: str, owner_id: str, target: str
) -> Relation | None:
    """Delete the relation; returns what was deleted, None when there was none."""
    row = await conn.fetchrow(
        f"DELETE FROM {kind.table} "
        f"WHERE tenant_id = $1 AND {kind.owner} = $2 AND {kind.target} = $3 "
        f"RETURNING {_select(kind)}",
        tenant_id,
        owner_id,
        target,
    )
    return Relation(**dict(row)) if row else None


async def remove_follows_between(
    conn: Connection, tenant_id: str, one_id: str, other_id: str
) -> list[Relation]:
    """Delete the follows between two people, either way; returns what was deleted."""
    kind = FOLLOW
    rows = await conn.fetch(
        f"DELETE FROM follows WHERE tenant_id = $1 AND ("
        "(follower_id = $2 AND followee_id = $3) OR (follower_id = $3 AND followee_id = $2)) "
        f"RETURNING {_select(kind)}",
        tenant_id,
        one_id,
        other_id,
    )
    return sorted((Relation(**dict(row)) for row in rows), key=lambda r: r.owner_id != one_id)
