"""The social graph in the ``ingestion`` schema: follows, tag follows, blocks, mutes.

Each relation is a row (owner → target) holding the id of the activity that created it, so
the Undo that ends it names it. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_ingestion.adapters.people import seen_by_guest, user_from_row
from canopy_ingestion.domain.model import User


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


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    """A person on a followers or following list, and since when the follow exists."""

    person: User
    since: datetime


def _not_hidden_from(viewer: str) -> str:
    """SQL: the listed person ``u`` is not someone ``viewer`` (a parameter) blocked, was
    blocked by or muted (as Mastodon's lists leave them out), in a query whose ``$1`` is the
    tenant."""
    return (
        "NOT EXISTS (SELECT 1 FROM blocks b WHERE b.tenant_id = $1 AND ("
        f"(b.blocker_id = {viewer} AND b.blocked_id = u.id) "
        f"OR (b.blocker_id = u.id AND b.blocked_id = {viewer}))) "
        "AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.tenant_id = $1 "
        f"AND m.user_id = {viewer} AND m.muted_id = u.id)"
    )


async def connections(
    conn: Connection,
    tenant_id: str,
    viewer_id: str,
    person_id: str,
    *,
    followers: bool,
    limit: int,
    after: tuple[datetime, str] | None,
    exclude_hidden: bool,
    guest: bool,
) -> list[Connected]:
    """The people who follow ``person_id`` (``followers``) or whom they follow, newest follow
    first, after the ``after`` position (the follow's time, the listed person's id); one
    keyset query on ``follows_followers_newest`` / ``follows_following_newest``.

    ``exclude_hidden`` leaves out the people the viewer blocked, is blocked by or muted;
    ``guest``: the viewer is a guest, who sees only themselves and the people they share a
    group with.
    """
    listed, anchor = ("follower_id", "followee_id") if followers else ("followee_id", "follower_id")
    conditions = [f"f.tenant_id = $1 AND f.{anchor} = $2"]
    args: list[Any] = [tenant_id, person_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if after is not None:
        conditions.append(f"(f.created_at, f.{listed}) < ({arg(after[0])}, {arg(after[1])})")
    if exclude_hidden or guest:
        viewer = arg(viewer_id)
        if exclude_hidden:
            conditions.append(_not_hidden_from(viewer))
        if guest:
            conditions.append(seen_by_guest("u.id", viewer))
    rows = await conn.fetch(
        "SELECT u.*, f.created_at AS since FROM follows f "
        f"JOIN users u ON u.tenant_id = f.tenant_id AND u.id = f.{listed} "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY f.created_at DESC, f.{listed} DESC LIMIT {arg(limit)}",
        *args,
    )
    return [Connected(user_from_row(row), row["since"]) for row in rows]


@dataclass(frozen=True)
class RelationsTo:
    """The viewer's relations to one person."""

    person: User
    following: bool
    followed_by: bool
    blocking: bool
    muting: bool
    shares_group: bool  # with the viewer (or is the viewer); asked only for a guest viewer


async def relations_to(
    conn: Connection, tenant_id: str, viewer_id: str, person_ids: list[str], *, guest: bool
) -> dict[str, RelationsTo]:
    """The viewer's relations to each of ``person_ids`` that is a person of the tenant, by id
    (one query)."""
    shares = seen_by_guest("u.id", "$2") if guest else "false"
    rows = await conn.fetch(
        "SELECT u.*, "
        "EXISTS (SELECT 1 FROM follows WHERE tenant_id = $1 AND follower_id = $2 "
        "AND followee_id = u.id) AS rel_following, "
        "EXISTS (SELECT 1 FROM follows WHERE tenant_id = $1 AND follower_id = u.id "
        "AND followee_id = $2) AS rel_followed_by, "
        "EXISTS (SELECT 1 FROM blocks WHERE tenant_id = $1 AND blocker_id = $2 "
        "AND blocked_id = u.id) AS rel_blocking, "
        "EXISTS (SELECT 1 FROM mutes WHERE tenant_id = $1 AND user_id = $2 "
        "AND muted_id = u.id) AS rel_muting, "
        f"{shares} AS rel_shares_group "
        "FROM users u WHERE u.tenant_id = $1 AND u.id = ANY($3::text[])",
        tenant_id,
        viewer_id,
        person_ids,
    )
    return {
        row["id"]: RelationsTo(
            user_from_row(row),
            following=row["rel_following"],
            followed_by=row["rel_followed_by"],
            blocking=row["rel_blocking"],
            muting=row["rel_muting"],
            shares_group=row["rel_shares_group"],
        )
        for row in rows
    }


async def followed_tags(
    conn: Connection,
    tenant_id: str,
    user_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[Relation]:
    """The hashtags ``user_id`` follows, newest first, after the ``after`` position (the
    follow's time, the tag); one keyset query on ``tag_follows_newest``."""
    kind = TAG_FOLLOW
    if after is None:
        rows = await conn.fetch(
            f"SELECT {_select(kind)} FROM tag_follows WHERE tenant_id = $1 AND user_id = $2 "
            "ORDER BY created_at DESC, tag DESC LIMIT $3",
            tenant_id,
            user_id,
            limit,
        )
    else:
        rows = await conn.fetch(
            f"SELECT {_select(kind)} FROM tag_follows WHERE tenant_id = $1 AND user_id = $2 "
            "AND (created_at, tag) < ($4, $5) ORDER BY created_at DESC, tag DESC LIMIT $3",
            tenant_id,
            user_id,
            limit,
            *after,
        )
    return [Relation(**dict(row)) for row in rows]
