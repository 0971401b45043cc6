"""The fanout service's projections of people, groups and the social graph (``fanout``
schema), built from activities only. Counters (followers, members) move only when a row was
really added or removed, so a redelivered activity changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from canopy_common.db import Connection
from canopy_common.events import Visibility
from canopy_common.members import PersonDirectory, ProjectedPeople
from canopy_common.visibility import group_visibility_of
from canopy_fanout.domain.audience import Cohort
from canopy_fanout.domain.model import Item, Reader, ReaderGraph, Ties

Relation = Literal["blocks", "mutes"]


async def upsert_person(
    conn: Connection, tenant: str, user_id: str, kind: str, active: bool = True
) -> None:
    """A person's Create or Update: their kind and standing (``active`` False: deactivated, a
    former colleague whose items stay); an erased person provisioned again is erased no more."""
    await conn.execute(
        "INSERT INTO people (tenant_id, user_id, kind, active) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (tenant_id, user_id) DO UPDATE SET kind = excluded.kind, "
        "active = excluded.active, erased = false",
        tenant,
        user_id,
        kind,
        active,
    )


# A person's standing (canopy_common.members): a row whose Create has not arrived yet (kind
# NULL, made by a follow or a read) is nobody provisioned; an erased one is inactive.
STANDING = (
    "SELECT CASE WHEN active AND kind IS NULL THEN NULL ELSE active END FROM people "
    "WHERE tenant_id = $1 AND user_id = $2"
)


def people(pool: asyncpg.Pool) -> PersonDirectory:
    """Who may act, from this projection (``ServiceDefinition.people``)."""
    return ProjectedPeople(pool, STANDING)


async def erase_person(conn: Connection, tenant: str, user_id: str) -> None:
    await conn.execute(
        "INSERT INTO people (tenant_id, user_id, active, erased) VALUES ($1, $2, false, true) "
        "ON CONFLICT (tenant_id, user_id) DO UPDATE SET active = false, erased = true",
        tenant,
        user_id,
    )


async def person_exists(conn: Connection, tenant: str, user_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT active FROM people WHERE tenant_id = $1 AND user_id = $2", tenant, user_id
        )
    )


async def has_feed(conn: Connection, tenant: str, user_id: str) -> bool:
    """Whether a person's own feed may be read: anyone heard of but an erased person (a
    deactivated one's items stay readable)."""
    erased = await conn.fetchval(
        "SELECT erased FROM people WHERE tenant_id = $1 AND user_id = $2", tenant, user_id
    )
    return erased is False


async def inactive_among(conn: Connection, tenant: str, user_ids: Sequence[str]) -> set[str]:
    """Those of ``user_ids`` who are deactivated: former colleagues (one query)."""
    rows = await conn.fetch(
        "SELECT user_id FROM people WHERE tenant_id = $1 AND user_id = ANY($2::text[]) "
        "AND NOT active AND NOT erased",
        tenant,
        list(user_ids),
    )
    return {row["user_id"] for row in rows}


async def record_reads(conn: Connection, tenant: str, user_id: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO people (tenant_id, user_id, last_seen_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant_id, user_id) DO UPDATE SET last_seen_at = "
        "GREATEST(people.last_seen_at, excluded.last_seen_at)",
        tenant,
        user_id,
        at,
    )


async def upsert_group(conn: Connection, tenant: str, group_id: str, visibility: str) -> None:
    await conn.execute(
        "INSERT INTO groups (tenant_id, group_id, visibility) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant_id, group_id) DO UPDATE SET visibility = excluded.visibility",
        tenant,
        group_id,
        visibility,
    )


async def group_visibility(conn: Connection, tenant: str, group_id: str) -> Visibility | None:
    found = await conn.fetchval(
        "SELECT visibility FROM groups WHERE tenant_id = $1 AND group_id = $2", tenant, group_id
    )
    # A stored text the rule does not know reads as private (fail closed).
    return group_visibility_of(found).as2 if found else None


async def is_member(conn: Connection, tenant: str, group_id: str, user_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
            tenant,
            group_id,
            user_id,
        )
    )


async def add_member(conn: Connection, tenant: str, group_id: str, user_id: str) -> bool:
    added = await conn.fetchval(
        "INSERT INTO memberships (tenant_id, group_id, user_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING true",
        tenant,
        group_id,
        user_id,
    )
    if added:
        await _count_members(conn, tenant, group_id, 1)
    return bool(added)


async def remove_member(conn: Connection, tenant: str, group_id: str, user_id: str) -> bool:
    removed = await conn.fetchval(
        "DELETE FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3 "
        "RETURNING true",
        tenant,
        group_id,
        user_id,
    )
    if removed:
        await _count_members(conn, tenant, group_id, -1)
    return bool(removed)


async def _count_members(conn: Connection, tenant: str, group_id: str, delta: int) -> None:
    # A Join may arrive before the group's Create (another key): the group is private until
    # its Create says otherwise, so nothing leaks meanwhile.
    await conn.execute(
        "INSERT INTO groups (tenant_id, group_id, member_count) VALUES ($1, $2, GREATEST($3, 0)) "
        "ON CONFLICT (tenant_id, group_id) "
        "DO UPDATE SET member_count = GREATEST(groups.member_count + $3, 0)",
        tenant,
        group_id,
        delta,
    )


async def add_follow(conn: Connection, tenant: str, follower: str, followee: str) -> bool:
    added = await conn.fetchval(
        "INSERT INTO follows (tenant_id, followee_id, follower_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING true",
        tenant,
        followee,
        follower,
    )
    if added:
        await _count_followers(conn, tenant, followee, 1)
    return bool(added)


async def remove_follow(conn: Connection, tenant: str, follower: str, followee: str) -> bool:
    removed = await conn.fetchval(
        "DELETE FROM follows WHERE tenant_id = $1 AND followee_id = $2 AND follower_id = $3 "
        "RETURNING true",
        tenant,
        followee,
        follower,
    )
    if removed:
        await _count_followers(conn, tenant, followee, -1)
    return bool(removed)


async def _count_followers(conn: Connection, tenant: str, user_id: str, delta: int) -> None:
    await conn.execute(
        "INSERT INTO people (tenant_id, user_id, follower_count) VALUES ($1, $2, GREATEST($3, 0)) "
        "ON CONFLICT (tenant_id, user_id) "
        "DO UPDATE SET follower_count = GREATEST(people.follower_count + $3, 0)",
        tenant,
        user_id,
        delta,
    )


async def follow_tag(conn: Connection, tenant: str, user_id: str, tag: str, on: bool) -> None:
    if on:
        await conn.execute(
            "INSERT INTO tag_follows (tenant_id, tag, user_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            tenant,
            tag,
            user_id,
        )
    else:
        await conn.execute(
            "DELETE FROM tag_follows WHERE tenant_id = $1 AND tag = $2 AND user_id = $3",
            tenant,
            tag,
            user_id,
        )


async def relate(
    conn: Connection, relation: Relation, tenant: str, user_id: str, other_id: str, on: bool
) -> None:
    """Add (``on``) or remove a block or mute of ``other_id`` by ``user_id``."""
    if on:
        await conn.execute(
            f"INSERT INTO {relation} (tenant_id, user_id, other_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            tenant,
            user_id,
            other_id,
        )
    else:
        await conn.execute(
            f"DELETE FROM {relation} WHERE tenant_id = $1 AND user_id = $2 AND other_id = $3",
            tenant,
            user_id,
            other_id,
        )


async def reader_graph(
    conn: Connection, tenant: str, user_id: str, *, push_limit: int, guest: bool = False
) -> ReaderGraph:
    """One reader's graph, in one round trip. ``guest`` is what the caller knows (the
    token's role) when the projection has not seen the person yet."""
    row = await conn.fetchrow(
        """
        SELECT
          (SELECT kind FROM people WHERE tenant_id = $1 AND user_id = $2) AS kind,
          (SELECT active FROM people WHERE tenant_id = $1 AND user_id = $2) AS active,
          ARRAY(SELECT followee_id FROM follows WHERE tenant_id = $1 AND follower_id = $2)
            AS follows,
          ARRAY(SELECT group_id FROM memberships WHERE tenant_id = $1 AND user_id = $2)
            AS groups,
          ARRAY(SELECT tag FROM tag_follows WHERE tenant_id = $1 AND user_id = $2) AS tags,
          ARRAY(SELECT other_id FROM blocks WHERE tenant_id = $1 AND user_id = $2
                UNION SELECT user_id FROM blocks WHERE tenant_id = $1 AND other_id = $2)
            AS blocked,
          ARRAY(SELECT other_id FROM mutes WHERE tenant_id = $1 AND user_id = $2) AS muted,
          ARRAY(SELECT f.followee_id FROM follows f JOIN people p
                  ON p.tenant_id = f.tenant_id AND p.user_id = f.followee_id
                WHERE f.tenant_id = $1 AND f.follower_id = $2 AND p.follower_count > $3)
            AS pull_people,
          ARRAY(SELECT m.group_id FROM memberships m JOIN groups g
                  ON g.tenant_id = m.tenant_id AND g.group_id = m.group_id
                WHERE m.tenant_id = $1 AND m.user_id = $2 AND g.member_count > $3)
            AS pull_groups
        """,
        tenant,
        user_id,
        push_limit,
    )
    assert row is not None
    kind = row["kind"]
    reader = Reader(
        user_id,
        guest=kind == "guest" if kind is not None else guest,
        active=row["active"] is not False,
    )
    return ReaderGraph(
        reader=reader,
        follows=frozenset(row["follows"]),
        groups=frozenset(row["groups"]),
        tags=frozenset(row["tags"]),
        blocked=frozenset(row["blocked"]),
        muted=frozenset(row["muted"]),
        pull_people=frozenset(row["pull_people"]),
        pull_groups=frozenset(row["pull_groups"]),
    )


@dataclass(frozen=True, slots=True)
class Candidates:
    """Who could get an item pushed, in cohorts of like standing towards it; and whether its
    actor or group is pulled instead of pushed."""

    cohorts: list[Cohort]
    actor_pulled: bool
    group_pulled: bool


async def candidates(conn: Connection, item: Item, *, push_limit: int) -> Candidates:
    """Everyone with a reason to get ``item`` — followers of its actor and members of its
    group unless those are pull sources, followers of its hashtags, the people it names, its
    actor and author — in cohorts by their ties to it, former colleagues left out. One round
    trip.

    Who read recently is not asked here: a home timeline exists in Redis only while its
    reader reads (its expiry is the active window), and pushes write only timelines that
    exist (:meth:`~canopy_fanout.adapters.feed_store.FeedStore.push_homes`).
    """
    named = sorted(item.people | item.mentions | item.addressees)
    # Grouped in Postgres: 10,000 followers of one author come back as a few rows of
    # (standing, ties, their ids), not 10,000 rows each made into Python objects. Only the
    # few candidates who are no active employee or bot are looked up (people_not_insiders):
    # joining every candidate with its person cost most of the query. Every row says whether
    # the actor and the group are pulled; with no candidate, one row says it.
    rows = await conn.fetch(
        """
        WITH sizes AS (
          SELECT COALESCE((SELECT follower_count FROM people
                            WHERE tenant_id = $1 AND user_id = $2), 0) > $7 AS actor_pulled,
                 COALESCE((SELECT member_count FROM groups
                            WHERE tenant_id = $1 AND group_id = $3), 0) > $7 AS group_pulled
        ), candidate AS (
          -- UNION ALL: one reader from two sources has the same ties in both, so lands twice
          -- in one cohort, and resolve_audience takes each reader once.
          SELECT follower_id AS uid FROM follows
           WHERE tenant_id = $1 AND followee_id = $2 AND NOT (SELECT actor_pulled FROM sizes)
          UNION ALL SELECT user_id FROM memberships
           WHERE tenant_id = $1 AND group_id = $3 AND NOT (SELECT group_pulled FROM sizes)
          UNION ALL SELECT user_id FROM tag_follows
           WHERE tenant_id = $1 AND tag = ANY($4::text[])
          UNION ALL SELECT unnest($5::text[])
        ), odd AS MATERIALIZED (
          -- The few who are no active employee or bot (people_not_insiders), hashed once.
          SELECT user_id, active FROM people
           WHERE tenant_id = $1 AND NOT (active AND COALESCE(kind IN ('employee', 'bot'), false))
        ), cohort AS (
          -- The ties come from one scan per relation of the item's people, group and tags,
          -- joined to the candidates: a probe per candidate and relation cost 10x more at
          -- 10,000 candidates.
          SELECT o.user_id IS NULL AS insider,
            fa.follower_id IS NOT NULL AS follows_actor,
            fb.follower_id IS NOT NULL AS follows_author,
            m.user_id IS NOT NULL AS member, t.user_id IS NOT NULL AS follows_tag,
            b.uid IS NOT NULL AS blocked, u.user_id IS NOT NULL AS muted,
            c.uid = ANY($5::text[]) AS named, array_agg(c.uid) AS readers
          FROM candidate c
          LEFT JOIN odd o ON o.user_id = c.uid
          LEFT JOIN follows fa
            ON fa.tenant_id = $1 AND fa.followee_id = $2 AND fa.follower_id = c.uid
          LEFT JOIN follows fb
            ON fb.tenant_id = $1 AND fb.followee_id = $6 AND $6 <> $2 AND fb.follower_id = c.uid
          LEFT JOIN memberships m
            ON m.tenant_id = $1 AND m.group_id = $3 AND m.user_id = c.uid
          LEFT JOIN (SELECT DISTINCT user_id FROM tag_follows
                      WHERE tenant_id = $1 AND tag = ANY($4::text[])) t ON t.user_id = c.uid
          LEFT JOIN (SELECT user_id AS uid FROM blocks
                      WHERE tenant_id = $1 AND other_id IN ($2, $6)
                     UNION SELECT other_id FROM blocks
                      WHERE tenant_id = $1 AND user_id IN ($2, $6)) b ON b.uid = c.uid
          LEFT JOIN (SELECT DISTINCT user_id FROM mutes
                      WHERE tenant_id = $1 AND other_id IN ($2, $6)) u ON u.user_id = c.uid
          WHERE o.active IS NOT false
          GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        )
        SELECT s.actor_pulled, s.group_pulled, c.* FROM sizes s LEFT JOIN cohort c ON true
        """,
        item.tenant_id,
        item.actor_id,
        item.group_id,
        sorted(item.hashtags),
        named,
        item.author_id,
        push_limit,
    )
    # Someone whose profile has not arrived yet counts as a guest: they get the least.
    cohorts = [
        Cohort(
            row["readers"],
            Ties(
                _followed(item, row["follows_actor"], row["follows_author"]),
                row["member"],
                row["follows_tag"],
                row["blocked"],
                row["muted"],
            ),
            guest=not row["insider"],
            named=row["named"],
        )
        for row in rows
        if row["readers"] is not None
    ]
    return Candidates(cohorts, rows[0]["actor_pulled"], rows[0]["group_pulled"])  # fmt: skip


def _followed(item: Item, actor: bool, author: bool) -> frozenset[str]:
    """Which of the item's people (its actor, its author) a cohort follows."""
    return frozenset(
        person for person, follows in ((item.actor_id, actor), (item.author_id, author)) if follows
    )


async def members_and_followers(
    conn: Connection, tenant: str, *, group_id: str | None, people: Sequence[str]
) -> list[str]:
    """Everyone who may hold an item of these people or this group in their home feed."""
    rows = await conn.fetch(
        "SELECT follower_id AS uid FROM follows WHERE tenant_id = $1 "
        "AND followee_id = ANY($2::text[]) "
        "UNION SELECT user_id FROM memberships WHERE tenant_id = $1 AND group_id = $3",
        tenant,
        list(people),
        group_id,
    )
    return [row["uid"] for row in rows]
