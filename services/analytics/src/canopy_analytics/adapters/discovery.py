"""Read SQL behind people discovery: who may be suggested or shown at all, with the signals
``domain/discovery.py`` ranks them by.

Who may appear is decided here, in SQL, for every list:
- only active (not erased) people of the caller's tenant, no bots, never someone the caller
  blocked or who blocked the caller;
- a guest sees only people sharing a (not deleted) group with them;
- suggestions also leave out the caller and whoever they already follow; group suggestions
  leave out groups the caller is in, deleted groups, private groups (only their members see
  them) and, for a guest, internal groups too.

Candidate lists are capped (``limit``) in an order approximating the final score, so a huge
tenant never ranks everyone in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from canopy_analytics.domain import discovery as d
from canopy_analytics.domain.discovery import (
    ExpertCandidate,
    GroupCandidate,
    PersonCandidate,
    skill_key,
)
from canopy_common.db import Connection

# A skill's comparison key in SQL, as domain.discovery.skill_key makes it (stored lower-cased).
_KEY = f"regexp_replace(lower({{}}), '{d.SPELLING_SQL}', '', 'g')"

# Not blocked either way between the caller ($2) and p.user_id.
_NOT_BLOCKED = """
    NOT EXISTS (SELECT 1 FROM blocks b
                 WHERE b.tenant_id = $1
                   AND ((b.blocker_id = $2 AND b.blocked_id = p.user_id)
                     OR (b.blocker_id = p.user_id AND b.blocked_id = $2)))
"""
# p.user_id shares a group (not deleted) with the caller ($2).
_SHARES_A_GROUP = """
    EXISTS (SELECT 1 FROM memberships mine
              JOIN memberships theirs
                ON theirs.tenant_id = mine.tenant_id AND theirs.group_id = mine.group_id
              JOIN groups g
                ON g.tenant_id = mine.tenant_id AND g.group_id = mine.group_id AND NOT g.deleted
             WHERE mine.tenant_id = $1 AND mine.user_id = $2 AND theirs.user_id = p.user_id)
"""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller as discovery needs them (a person with no profile yet has none of these)."""

    user_id: str
    kind: str | None = None
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()

    def profile(self) -> d.Profile:
        return d.Profile(self.user_id, self.skills, self.interests)


async def viewer(conn: Connection, tenant: str, user_id: str) -> Viewer:
    row = await conn.fetchrow(
        "SELECT kind, skills, interests FROM people WHERE tenant_id = $1 AND user_id = $2",
        tenant,
        user_id,
    )
    if row is None:
        return Viewer(user_id)
    return Viewer(user_id, row["kind"], tuple(row["skills"]), tuple(row["interests"]))


async def experts(
    conn: Connection, tenant: str, caller: str, topic: str, *, guest: bool, limit: int
) -> list[ExpertCandidate]:
    """People with contributions on ``topic`` (a hashtag, as stored) or a skill naming it."""
    rows = await conn.fetch(
        f"""
        WITH contributed AS (
            SELECT user_id, posts, accepted_answers, reactions_received
              FROM topic_contributions
             WHERE tenant_id = $1 AND topic = $3
        ), skilled AS (
            SELECT p.user_id
              FROM people p
             WHERE p.tenant_id = $1 AND p.active
               AND EXISTS (SELECT 1 FROM unnest(p.skills) AS s(skill)
                            WHERE {_KEY.format("s.skill")} = $4)
        ), candidates AS (
            SELECT user_id FROM contributed UNION SELECT user_id FROM skilled
        )
        SELECT p.user_id, p.name, p.title, p.department,
               coalesce(c.posts, 0)              AS posts,
               coalesce(c.accepted_answers, 0)   AS accepted_answers,
               coalesce(c.reactions_received, 0) AS reactions_received,
               (s.user_id IS NOT NULL)           AS skill_match
          FROM candidates k
          JOIN people p ON p.tenant_id = $1 AND p.user_id = k.user_id AND p.active
                       AND p.kind <> 'bot'
          LEFT JOIN contributed c ON c.user_id = k.user_id
          LEFT JOIN skilled s ON s.user_id = k.user_id
         WHERE {_NOT_BLOCKED}
           AND (NOT $5 OR p.user_id = $2 OR {_SHARES_A_GROUP})
         ORDER BY $6::float8 * coalesce(c.posts, 0)
                + $7::float8 * coalesce(c.accepted_answers, 0)
                + $8::float8 * coalesce(c.reactions_received, 0)
                + CASE WHEN s.user_id IS NULL THEN 0 ELSE $9::float8 END DESC,
                  p.user_id
         LIMIT $10
        """,
        tenant,
        caller,
        topic,
        skill_key(topic),
        guest,
        d.EXPERT_POST_WEIGHT,
        d.EXPERT_ACCEPTED_ANSWER_WEIGHT,
        d.EXPERT_REACTION_WEIGHT,
        d.EXPERT_SKILL_BONUS,
        limit,
    )
    return [
        ExpertCandidate(
            user_id=r["user_id"],
            name=r["name"],
            title=r["title"],
            department=r["department"],
            posts=int(r["posts"]),
            accepted_answers=int(r["accepted_answers"]),
            reactions_received=int(r["reactions_received"]),
            skill_match=bool(r["skill_match"]),
        )
        for r in rows
    ]


async def people_you_may_know(
    conn: Connection,
    tenant: str,
    me: Viewer,
    *,
    guest: bool,
    limit: int,
    writing_alike: Sequence[str] = (),
) -> list[PersonCandidate]:
    """People related to the caller (followed by people they follow, in their groups,
    following them, sharing a skill or interest, or among ``writing_alike``: writing about
    what they write about) whom they may see and do not follow."""
    rows = await conn.fetch(
        f"""
        WITH my_followees AS (
            SELECT followee_id AS user_id FROM follows WHERE tenant_id = $1 AND follower_id = $2
        ), my_groups AS (
            SELECT m.group_id
              FROM memberships m
              JOIN groups g
                ON g.tenant_id = m.tenant_id AND g.group_id = m.group_id AND NOT g.deleted
             WHERE m.tenant_id = $1 AND m.user_id = $2
        ), mutual AS (
            SELECT f.followee_id AS user_id, count(*)::int AS n
              FROM follows f JOIN my_followees mf ON f.follower_id = mf.user_id
             WHERE f.tenant_id = $1
             GROUP BY f.followee_id
        ), shared AS (
            SELECT m.user_id, count(*)::int AS n
              FROM memberships m JOIN my_groups mg ON mg.group_id = m.group_id
             WHERE m.tenant_id = $1
             GROUP BY m.user_id
        ), followers AS (
            SELECT follower_id AS user_id FROM follows WHERE tenant_id = $1 AND followee_id = $2
        ), alike AS (
            SELECT p.user_id
              FROM people p
             WHERE p.tenant_id = $1 AND p.active
               AND (EXISTS (SELECT 1 FROM unnest(p.skills) AS s(term)
                             WHERE {_KEY.format("s.term")} = ANY($3::text[]))
                 OR EXISTS (SELECT 1 FROM unnest(p.interests) AS i(term)
                             WHERE {_KEY.format("i.term")} = ANY($4::text[])))
        ), candidates AS (
            SELECT user_id FROM mutual UNION SELECT user_id FROM shared
            UNION SELECT user_id FROM followers UNION SELECT user_id FROM alike
            UNION SELECT unnest($10::text[])
        )
        SELECT p.user_id, p.name, p.title, p.department, p.skills, p.interests,
               coalesce(mutual.n, 0)         AS mutual_follows,
               coalesce(shared.n, 0)         AS shared_groups,
               (followers.user_id IS NOT NULL) AS follows_you
          FROM candidates k
          JOIN people p ON p.tenant_id = $1 AND p.user_id = k.user_id
          LEFT JOIN mutual ON mutual.user_id = k.user_id
          LEFT JOIN shared ON shared.user_id = k.user_id
          LEFT JOIN followers ON followers.user_id = k.user_id
         WHERE p.active AND p.kind <> 'bot' AND p.user_id <> $2
           AND NOT EXISTS (SELECT 1 FROM my_followees mf WHERE mf.user_id = p.user_id)
           AND {_NOT_BLOCKED}
           AND (NOT $5 OR shared.user_id IS NOT NULL)
         ORDER BY $6::float8 * coalesce(mutual.n, 0) + $7::float8 * coalesce(shared.n, 0)
                + CASE WHEN followers.user_id IS NULL THEN 0 ELSE $8::float8 END DESC,
                  p.user_id
         LIMIT $9
        """,
        tenant,
        me.user_id,
        _keys(me.skills),
        _keys(me.interests),
        guest,
        d.MUTUAL_FOLLOW_WEIGHT,
        d.SHARED_GROUP_WEIGHT,
        d.FOLLOWS_YOU_WEIGHT,
        limit,
        list(writing_alike),
    )
    return [
        PersonCandidate(
            user_id=r["user_id"],
            name=r["name"],
            title=r["title"],
            department=r["department"],
            mutual_follows=int(r["mutual_follows"]),
            shared_groups=int(r["shared_groups"]),
            follows_you=bool(r["follows_you"]),
            skills=tuple(r["skills"]),
            interests=tuple(r["interests"]),
        )
        for r in rows
    ]


async def groups_you_may_like(
    conn: Connection,
    tenant: str,
    me: Viewer,
    *,
    visibilities: tuple[str, ...],
    active_since: date,
    limit: int,
) -> list[GroupCandidate]:
    """Groups of ``visibilities`` the caller is not in, with who they follow there, the
    hashtags of its posts matching their skills or interests, and its recent liveliness."""
    rows = await conn.fetch(
        f"""
        WITH my_followees AS (
            SELECT followee_id AS user_id FROM follows WHERE tenant_id = $1 AND follower_id = $2
        ), sizes AS (
            SELECT group_id, count(*)::int AS n FROM memberships WHERE tenant_id = $1
             GROUP BY group_id
        ), followed AS (
            SELECT m.group_id, count(*)::int AS n
              FROM memberships m JOIN my_followees f ON f.user_id = m.user_id
             WHERE m.tenant_id = $1
             GROUP BY m.group_id
        ), topics AS (
            SELECT p.group_id, array_agg(DISTINCT t.tag ORDER BY t.tag) AS tags
              FROM posts p, unnest(p.tags) AS t(tag)
             WHERE p.tenant_id = $1 AND p.group_id IS NOT NULL AND NOT p.deleted
               AND {_KEY.format("t.tag")} = ANY($3::text[])
             GROUP BY p.group_id
        ), lively AS (
            SELECT group_id, count(DISTINCT user_id)::int AS n
              FROM daily_group_actors
             WHERE tenant_id = $1 AND day >= $4
             GROUP BY group_id
        )
        SELECT g.group_id, g.name, g.visibility,
               coalesce(sizes.n, 0)      AS members,
               coalesce(followed.n, 0)   AS followed_members,
               coalesce(topics.tags, '{{}}') AS tags,
               coalesce(lively.n, 0)     AS active_members
          FROM groups g
          LEFT JOIN sizes ON sizes.group_id = g.group_id
          LEFT JOIN followed ON followed.group_id = g.group_id
          LEFT JOIN topics ON topics.group_id = g.group_id
          LEFT JOIN lively ON lively.group_id = g.group_id
         WHERE g.tenant_id = $1 AND NOT g.deleted AND g.visibility = ANY($5::text[])
           AND NOT EXISTS (SELECT 1 FROM memberships m
                            WHERE m.tenant_id = $1 AND m.group_id = g.group_id
                              AND m.user_id = $2)
         ORDER BY $6::float8 * coalesce(followed.n, 0)
                + $7::float8 * coalesce(cardinality(topics.tags), 0)
                + $8::float8 * least(coalesce(lively.n, 0), $9) DESC,
                  g.group_id
         LIMIT $10
        """,
        tenant,
        me.user_id,
        _keys((*me.skills, *me.interests)),
        active_since,
        list(visibilities),
        d.FOLLOWED_MEMBER_WEIGHT,
        d.GROUP_TOPIC_WEIGHT,
        d.ACTIVE_MEMBER_WEIGHT,
        d.ACTIVE_MEMBERS_CAP,
        limit,
    )
    return [
        GroupCandidate(
            group_id=r["group_id"],
            name=r["name"],
            visibility=r["visibility"],
            members=int(r["members"]),
            followed_members=int(r["followed_members"]),
            tags=tuple(r["tags"]),
            active_members=int(r["active_members"]),
        )
        for r in rows
    ]


def _keys(terms: tuple[str, ...]) -> list[str]:
    return sorted({skill_key(t) for t in terms} - {""})
