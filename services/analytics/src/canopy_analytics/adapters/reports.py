"""Read SQL behind the analytics reports (tables of migrations/0002_rollups.sql). Every query
filters on the tenant; none writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from canopy_analytics.domain.periods import Window
from canopy_common.db import Connection


@dataclass(frozen=True, slots=True)
class QARow:
    questions: int
    answered: int
    accepted: int
    median_first_answer_s: float | None


@dataclass(frozen=True, slots=True)
class GroupRow:
    group_id: str
    name: str | None
    visibility: str


@dataclass(frozen=True, slots=True)
class PostRow:
    object_id: str
    author_id: str | None
    group_id: str | None
    kind: str | None
    visibility: str | None
    published: datetime | None
    reactions: int
    comments: int
    shares: int
    viewers: int


async def daily_counts(
    conn: Connection, tenant: str, window: Window, metrics: list[str], *, group_id: str = ""
) -> list[tuple[date, str, str, int]]:
    """``(day, metric, kind, n)`` of ``metrics`` in the window; ``group_id`` '' is the tenant."""
    rows = await conn.fetch(
        """
        SELECT day, metric, kind, sum(n)::bigint AS n
          FROM daily_counts
         WHERE tenant_id = $1 AND group_id = $2 AND metric = ANY($3::text[])
           AND day BETWEEN $4 AND $5
         GROUP BY day, metric, kind
        """,
        tenant,
        group_id,
        metrics,
        window.first,
        window.last,
    )
    return [(r["day"], r["metric"], r["kind"], int(r["n"])) for r in rows]


async def participation(conn: Connection, tenant: str, window: Window) -> tuple[int, int, int]:
    """Creators, contributors (not creators) and lurkers (neither) among the people active in
    the window, exact."""
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE created)                         AS creators,
               count(*) FILTER (WHERE contributed AND NOT created)     AS contributors,
               count(*) FILTER (WHERE NOT created AND NOT contributed) AS lurkers
          FROM (SELECT bool_or(created) AS created, bool_or(contributed) AS contributed
                  FROM daily_actors
                 WHERE tenant_id = $1 AND day BETWEEN $2 AND $3
                 GROUP BY user_id) AS people
        """,
        tenant,
        window.first,
        window.last,
    )
    assert row is not None
    return int(row["creators"]), int(row["contributors"]), int(row["lurkers"])


async def qa_health(
    conn: Connection, tenant: str, window: Window, *, group_id: str | None = None
) -> QARow:
    """The questions asked in the window (in ``group_id`` when given), deleted ones left out."""
    row = await conn.fetchrow(
        """
        SELECT count(*)                                         AS questions,
               count(*) FILTER (WHERE q.first_answer_at IS NOT NULL) AS answered,
               count(*) FILTER (WHERE q.accepted_at IS NOT NULL)     AS accepted,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM q.first_answer_at - q.asked_at)
               ) FILTER (WHERE q.first_answer_at IS NOT NULL) AS median_s
          FROM questions q
         WHERE q.tenant_id = $1 AND q.asked_at >= $2 AND q.asked_at < $3
           AND ($4::text IS NULL OR q.group_id = $4)
           AND NOT EXISTS (SELECT 1 FROM posts p
                            WHERE p.tenant_id = q.tenant_id AND p.object_id = q.question_id
                              AND p.deleted)
        """,
        tenant,
        window.starts_at,
        window.ends_before,
        group_id,
    )
    assert row is not None
    median = row["median_s"]
    return QARow(
        questions=int(row["questions"]),
        answered=int(row["answered"]),
        accepted=int(row["accepted"]),
        median_first_answer_s=None if median is None else float(median),
    )


async def group(conn: Connection, tenant: str, group_id: str) -> GroupRow | None:
    """The group, unless unknown in the tenant or deleted."""
    row = await conn.fetchrow(
        "SELECT group_id, name, visibility FROM groups "
        "WHERE tenant_id = $1 AND group_id = $2 AND NOT deleted",
        tenant,
        group_id,
    )
    return None if row is None else GroupRow(row["group_id"], row["name"], row["visibility"])


async def membership_role(conn: Connection, tenant: str, group_id: str, user_id: str) -> str | None:
    """The person's role in the group (owner, admin, member), or None if not a member."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
        tenant,
        group_id,
        user_id,
    )
    return role


async def profile_kind(conn: Connection, tenant: str, user_id: str) -> str | None:
    """employee or guest, from the person's profile; None when unknown."""
    kind: str | None = await conn.fetchval(
        "SELECT kind FROM people WHERE tenant_id = $1 AND user_id = $2", tenant, user_id
    )
    return kind


async def follows(conn: Connection, tenant: str, follower: str, followee: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM follows WHERE tenant_id = $1 AND follower_id = $2 AND followee_id = $3",
        tenant,
        follower,
        followee,
    )
    return found is not None


async def group_members(
    conn: Connection, tenant: str, group_id: str, window: Window
) -> tuple[int, int]:
    """Members now, and those of them active in the group in the window."""
    row = await conn.fetchrow(
        """
        SELECT count(*) AS members,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM daily_group_actors a
                    WHERE a.tenant_id = m.tenant_id AND a.group_id = m.group_id
                      AND a.user_id = m.user_id AND a.day BETWEEN $3 AND $4)) AS active
          FROM memberships m
         WHERE m.tenant_id = $1 AND m.group_id = $2
        """,
        tenant,
        group_id,
        window.first,
        window.last,
    )
    assert row is not None
    return int(row["members"]), int(row["active"])


async def post(conn: Connection, tenant: str, object_id: str) -> PostRow | None:
    """The post or comment, unless unknown, deleted, or only known from reactions or views
    that arrived before its Create (no author yet)."""
    row = await conn.fetchrow(
        """
        SELECT object_id, author_id, group_id, kind, visibility, published,
               reactions, comments, shares, viewers
          FROM posts
         WHERE tenant_id = $1 AND object_id = $2 AND NOT deleted AND author_id IS NOT NULL
        """,
        tenant,
        object_id,
    )
    return None if row is None else _post(row)


def _post(row: asyncpg.Record) -> PostRow:
    return PostRow(
        object_id=row["object_id"],
        author_id=row["author_id"],
        group_id=row["group_id"],
        kind=row["kind"],
        visibility=row["visibility"],
        published=row["published"],
        reactions=int(row["reactions"]),
        comments=int(row["comments"]),
        shares=int(row["shares"]),
        viewers=int(row["viewers"]),
    )


# 0.5^1000 is about 1e-301, still a float8; a few more halvings and Postgres fails the query
# with "value out of range: underflow" (a use that old counts as nothing anyway).
MAX_HALVINGS = 1000.0


async def trending_tags(
    conn: Connection, tenant: str, *, now: datetime, window_h: int, half_life_h: float, limit: int
) -> list[tuple[str, float, int]]:
    """``(tag, score, uses)`` of the top ``limit`` hashtags: each hour's uses in the last
    ``window_h`` hours (the current one included) decayed by 0.5^(age ÷ half-life), age from
    the start of the hour bucket. Ties: more uses, then the tag."""
    rows = await conn.fetch(
        """
        SELECT tag,
               sum(n * power(0.5::float8, least(
                   greatest(extract(epoch FROM ($2::timestamptz - hour)), 0)::float8
                   / 3600.0 / $4::float8, $6::float8))) AS score,
               sum(n)::bigint AS uses
          FROM tag_counts
         WHERE tenant_id = $1 AND hour > $2::timestamptz - make_interval(hours => $3)
         GROUP BY tag
        HAVING sum(n) > 0
         ORDER BY score DESC, uses DESC, tag
         LIMIT $5
        """,
        tenant,
        now,
        window_h,
        half_life_h,
        limit,
        MAX_HALVINGS,
    )
    return [(r["tag"], float(r["score"]), int(r["uses"])) for r in rows]
