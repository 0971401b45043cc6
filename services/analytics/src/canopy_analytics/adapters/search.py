"""Read SQL behind search (docs/architecture.md §17). Each query is one keyset page over the
analytics projections, ranked as ``domain/search.py`` says.

Visibility: each query narrows its rows in SQL to a necessary condition of the one rule
(``canopy_common.visibility``) — the reader's tenant; groups they are in or whose visibility
they see; post visibilities they may see (a guest public only, followers-only with a follow,
direct when addressed or mentioned, their own always); nobody blocked either way; only active
people — and returns what the rule needs to decide each row, which the caller does in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_analytics.domain import search as s
from canopy_common.db import Connection

# What one search knows before it ranks: the tenant's configuration, whether the query has
# any lexeme left (a query of stop words alone finds nothing).
_LANGUAGE = (
    "coalesce((SELECT language FROM search_settings WHERE tenant_id = $1), 'english'::regconfig)"
)


@dataclass(frozen=True, slots=True)
class Query:
    """One search as the SQL runs it."""

    tenant: str
    reader: str
    guest: bool
    text: str  # cleaned (domain.search.clean_query)
    language: str
    blocked: Sequence[str]  # people blocked either way
    seen_groups: Sequence[str]  # group visibilities a non-member sees
    limit: int
    after: tuple[float, str] | None = None  # the last (score, id) of the previous page


@dataclass(frozen=True, slots=True)
class PostFilters:
    group_id: str | None = None
    author: str | None = None
    tag: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def prepare(conn: Connection, tenant: str, q: str) -> tuple[str, bool]:
    """The tenant's configuration, and whether ``q`` holds any lexeme in it."""
    row = await conn.fetchrow(
        f"SELECT {_LANGUAGE}::text AS language, "
        f"numnode(websearch_to_tsquery({_LANGUAGE}, $2)) > 0 AS searchable",
        tenant,
        q,
    )
    assert row is not None
    return row["language"], row["searchable"]


async def blocked(conn: Connection, tenant: str, reader: str) -> list[str]:
    """Everyone the reader blocked or who blocked the reader."""
    rows = await conn.fetch(
        "SELECT blocked_id AS other FROM blocks WHERE tenant_id = $1 AND blocker_id = $2 "
        "UNION SELECT blocker_id FROM blocks WHERE tenant_id = $1 AND blocked_id = $2",
        tenant,
        reader,
    )
    return [r["other"] for r in rows]


async def group_standing(
    conn: Connection, tenant: str, group_id: str, reader: str
) -> tuple[str, bool] | None:
    """A live group's visibility and whether the reader is a member; None when unknown."""
    row = await conn.fetchrow(
        "SELECT g.visibility, EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = $1 "
        "AND m.group_id = $2 AND m.user_id = $3) AS member FROM groups g "
        "WHERE g.tenant_id = $1 AND g.group_id = $2 AND NOT g.deleted",
        tenant,
        group_id,
        reader,
    )
    return None if row is None else (row["visibility"], row["member"])


def _after(alias: str, key: str, score: int) -> str:
    """The keyset condition of a page after (score ``$score``, id ``$score + 1``); none on
    the first page (both null)."""
    at, last = f"${score}::float8", f"${score + 1}::text"
    return f"({at} IS NULL OR ({alias}.score, {alias}.{key}) < ({at}, {last}))"


# $1 tenant, $2 language, $3 q, $4 reader, $5 guest, $6 blocked, $7 group visibilities seen,
# $8 limit + 1, $9 as_of, $10/$11 after, $12.. filters.
_POSTS = f"""
WITH q AS (SELECT websearch_to_tsquery($2::text::regconfig, $3) AS query),
matched AS (
    SELECT p.object_id, p.kind, p.title, p.author_id, p.group_id, p.parent_id, p.published,
           p.tags, p.visibility, p.addressees, p.mentions, p.text,
           g.visibility AS group_visibility,
           (m.user_id IS NOT NULL) AS member,
           (f.follower_id IS NOT NULL) AS follows_author,
           ts_rank_cd(p.search, q.query, 32)::float8
             * (1 - {s.RECENCY_SHARE}
                + {s.RECENCY_SHARE} / (1 + greatest(extract(epoch FROM $9 - p.published), 0)
                                            / 86400.0 / {s.RECENCY_DAYS})) AS score
      FROM posts p
      CROSS JOIN q
      LEFT JOIN groups g
        ON g.tenant_id = p.tenant_id AND g.group_id = p.group_id AND NOT g.deleted
      LEFT JOIN memberships m
        ON m.tenant_id = p.tenant_id AND m.group_id = p.group_id AND m.user_id = $4
      LEFT JOIN follows f
        ON f.tenant_id = p.tenant_id AND f.follower_id = $4 AND f.followee_id = p.author_id
     WHERE p.tenant_id = $1 AND p.search @@ q.query AND NOT p.deleted
       AND p.published IS NOT NULL
       AND ($12::text IS NULL OR p.group_id = $12)
       AND ($13::text IS NULL OR p.author_id = $13)
       AND ($14::text IS NULL OR $14 = ANY (p.tags))
       AND ($15::text IS NULL OR p.kind = $15)
       AND ($16::timestamptz IS NULL OR p.published >= $16)
       AND ($17::timestamptz IS NULL OR p.published < $17)
       AND (p.author_id IS NULL OR p.author_id <> ALL ($6::text[]))
       AND (p.author_id = $4 OR p.group_id IS NULL OR m.user_id IS NOT NULL
            OR g.visibility = ANY ($7::text[]))
       AND (p.author_id = $4 OR CASE p.visibility
                WHEN 'public' THEN true
                WHEN 'internal' THEN NOT $5
                WHEN 'group' THEN m.user_id IS NOT NULL
                WHEN 'followers'
                    THEN (f.follower_id IS NOT NULL AND NOT $5) OR $4 = ANY (p.mentions)
                WHEN 'direct' THEN $4 = ANY (p.addressees) OR $4 = ANY (p.mentions)
                ELSE false END)
), page AS (
    SELECT * FROM matched r WHERE {_after("r", "object_id", 10)}
     ORDER BY r.score DESC, r.object_id DESC
     LIMIT $8
)
SELECT page.*, ts_headline($2::text::regconfig, page.text, q.query, $18) AS headline
  FROM page CROSS JOIN q
 ORDER BY page.score DESC, page.object_id DESC
"""


async def posts(
    conn: Connection, query: Query, filters: PostFilters, as_of: datetime
) -> list[dict[str, Any]]:
    """Up to ``limit`` + 1 posts matching, best first, with what the rule needs and a
    ``headline`` (ts_headline, computed for these rows only)."""
    rows = await conn.fetch(
        _POSTS,
        query.tenant,
        query.language,
        query.text,
        query.reader,
        query.guest,
        list(query.blocked),
        list(query.seen_groups),
        query.limit + 1,
        as_of,
        *(query.after or (None, None)),
        filters.group_id,
        filters.author,
        filters.tag,
        filters.kind,
        filters.since,
        filters.until,
        s.HEADLINE_OPTIONS,
    )
    return [dict(r) for r in rows]


_PROFILE = (
    "to_tsvector($2::text::regconfig, concat_ws(' ', p.name, p.handle, p.title, p.department, "
    "array_to_string(p.skills, ' ')))"
)
_SHARES_A_GROUP = """
    EXISTS (SELECT 1 FROM memberships mine
              JOIN memberships theirs
                ON theirs.tenant_id = mine.tenant_id AND theirs.group_id = mine.group_id
              JOIN groups g
                ON g.tenant_id = mine.tenant_id AND g.group_id = mine.group_id AND NOT g.deleted
             WHERE mine.tenant_id = $1 AND mine.user_id = $4 AND theirs.user_id = p.user_id)
"""

# $1 tenant, $2 language, $3 q, $4 reader, $5 guest, $6 blocked, $7 limit + 1, $8/$9 after.
_PEOPLE = f"""
WITH q AS (SELECT websearch_to_tsquery($2::text::regconfig, $3) AS query, lower($3) AS text),
matched AS (
    SELECT p.user_id, p.handle, p.name, p.title, p.department, p.skills, p.active,
           ($5 AND {_SHARES_A_GROUP}) AS shares_group,
           (greatest(word_similarity(q.text, lower(coalesce(p.name, ''))),
                     word_similarity(q.text, lower(coalesce(p.handle, ''))))
            + ts_rank({_PROFILE}, q.query))::float8 AS score
      FROM people p CROSS JOIN q
     WHERE p.tenant_id = $1 AND p.active AND p.user_id <> ALL ($6::text[])
       AND (q.text <% lower(p.name) OR q.text <% lower(p.handle) OR {_PROFILE} @@ q.query)
       AND (NOT $5 OR p.user_id = $4 OR {_SHARES_A_GROUP})
)
SELECT * FROM matched r WHERE {_after("r", "user_id", 8)}
 ORDER BY r.score DESC, r.user_id DESC
 LIMIT $7
"""

_GROUP_TEXT = "to_tsvector($2::text::regconfig, concat_ws(' ', g.name, g.description))"
# $1 tenant, $2 language, $3 q, $4 reader, $5 visibilities seen, $6 limit + 1, $7/$8 after.
_GROUPS = f"""
WITH q AS (SELECT websearch_to_tsquery($2::text::regconfig, $3) AS query, lower($3) AS text),
matched AS (
    SELECT g.group_id, g.name, g.description, g.visibility,
           (m.user_id IS NOT NULL) AS member,
           (greatest(word_similarity(q.text, lower(coalesce(g.name, ''))),
                     word_similarity(q.text, lower(coalesce(g.description, ''))))
            + ts_rank({_GROUP_TEXT}, q.query))::float8 AS score
      FROM groups g CROSS JOIN q
      LEFT JOIN memberships m
        ON m.tenant_id = g.tenant_id AND m.group_id = g.group_id AND m.user_id = $4
     WHERE g.tenant_id = $1 AND NOT g.deleted
       AND (m.user_id IS NOT NULL OR g.visibility = ANY ($5::text[]))
       AND (q.text <% lower(g.name) OR q.text <% lower(g.description)
            OR {_GROUP_TEXT} @@ q.query)
)
SELECT * FROM matched r WHERE {_after("r", "group_id", 7)}
 ORDER BY r.score DESC, r.group_id DESC
 LIMIT $6
"""


async def _trigram_threshold(conn: Connection) -> None:
    # For this transaction: `<%` (word similarity, which the trigram indexes serve) at ours.
    await conn.execute(
        "SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)",
        str(s.NAME_SIMILARITY),
    )


async def people(conn: Connection, query: Query) -> list[dict[str, Any]]:
    """Up to ``limit`` + 1 active people matching, best first."""
    await _trigram_threshold(conn)
    rows = await conn.fetch(
        _PEOPLE,
        query.tenant,
        query.language,
        query.text,
        query.reader,
        query.guest,
        list(query.blocked),
        query.limit + 1,
        *(query.after or (None, None)),
    )
    return [dict(r) for r in rows]


async def groups(conn: Connection, query: Query) -> list[dict[str, Any]]:
    """Up to ``limit`` + 1 live groups matching, best first."""
    await _trigram_threshold(conn)
    rows = await conn.fetch(
        _GROUPS,
        query.tenant,
        query.language,
        query.text,
        query.reader,
        list(query.seen_groups),
        query.limit + 1,
        *(query.after or (None, None)),
    )
    return [dict(r) for r in rows]
