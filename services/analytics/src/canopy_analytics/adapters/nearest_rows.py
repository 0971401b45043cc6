"""Read SQL behind search by meaning (docs/architecture.md §17): the rows of the posts the
vectors found nearest, with what the one visibility rule needs to decide each, and the people
who may be shown or told. One query per list, for the candidates' ids at once.

The in-memory vectors may lag a delete or an edit by a moment: every row is read again here,
and a deleted or blanked post, or one no longer open where only open ones count, is dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_analytics.adapters.discovery import _NOT_BLOCKED, _SHARES_A_GROUP
from canopy_common.db import Connection

SNIPPET_CHARS = 240  # a line or two under the title in a "similar questions" list

# $1 tenant, $2 ids, $3 reader.
_QUESTIONS = f"""
SELECT p.object_id, p.title, left(p.text, {SNIPPET_CHARS * 2}) AS text, p.author_id,
       p.group_id, p.published, p.tags, p.visibility, p.addressees, p.mentions,
       g.visibility AS group_visibility, g.name AS group_name,
       a.name AS author_name, a.handle AS author_handle,
       (m.user_id IS NOT NULL) AS member,
       (f.follower_id IS NOT NULL) AS follows_author,
       EXISTS (SELECT 1 FROM posts r
                WHERE r.tenant_id = $1 AND r.parent_id = p.object_id AND r.kind = 'answer'
                  AND NOT r.deleted) AS answered,
       EXISTS (SELECT 1 FROM posts r
                WHERE r.tenant_id = $1 AND r.object_id = q.accepted_answer_id
                  AND NOT r.deleted) AS accepted
  FROM posts p
  LEFT JOIN questions q ON q.tenant_id = p.tenant_id AND q.question_id = p.object_id
  LEFT JOIN groups g ON g.tenant_id = p.tenant_id AND g.group_id = p.group_id AND NOT g.deleted
  LEFT JOIN memberships m
    ON m.tenant_id = p.tenant_id AND m.group_id = p.group_id AND m.user_id = $3
  LEFT JOIN follows f
    ON f.tenant_id = p.tenant_id AND f.follower_id = $3 AND f.followee_id = p.author_id
  LEFT JOIN people a ON a.tenant_id = p.tenant_id AND a.user_id = p.author_id
 WHERE p.tenant_id = $1 AND p.object_id = ANY ($2::text[]) AND p.kind = 'question'
   AND p.parent_id IS NULL AND NOT p.deleted AND p.text <> ''
"""

# $1 tenant, $2 ids: open, live items with what a reason quotes.
_CONTRIBUTION_ROWS = """
SELECT p.object_id, p.author_id, p.kind, p.parent_id, p.title, left(p.text, 300) AS text,
       q.title AS question_title, left(q.text, 300) AS question_text,
       (qs.accepted_answer_id = p.object_id) AS accepted
  FROM posts p
  LEFT JOIN posts q ON q.tenant_id = p.tenant_id AND q.object_id = p.parent_id
  LEFT JOIN questions qs ON qs.tenant_id = p.tenant_id AND qs.question_id = p.parent_id
 WHERE p.tenant_id = $1 AND {which}
   AND p.open AND NOT p.deleted AND p.text <> '' AND p.author_id IS NOT NULL
"""
_CONTRIBUTIONS = _CONTRIBUTION_ROWS.format(which="p.object_id = ANY ($2::text[])")
# posts_by_parent: the answers of a page of questions.
_ANSWERS_TO = _CONTRIBUTION_ROWS.format(
    which="p.parent_id = ANY ($2::text[]) AND p.kind = 'answer'"
)


async def questions(
    conn: Connection, tenant: str, ids: Sequence[str], reader: str
) -> dict[str, dict[str, Any]]:
    """The live questions among ``ids``, by id, with the reader's ties to each."""
    rows = await conn.fetch(_QUESTIONS, tenant, list(ids), reader)
    return {r["object_id"]: dict(r) for r in rows}


@dataclass(frozen=True, slots=True)
class ContributionRow:
    """An open, live post, answer or comment, as a reason quotes it."""

    object_id: str
    author_id: str
    kind: str | None
    parent_id: str | None
    title: str | None
    text: str
    question_title: str | None
    question_text: str | None
    accepted: bool


async def contributions(
    conn: Connection, tenant: str, ids: Sequence[str]
) -> dict[str, ContributionRow]:
    """The open, live items among ``ids`` (only what every employee may see counts)."""
    return _contribution_rows(await conn.fetch(_CONTRIBUTIONS, tenant, list(ids)))


async def answers_to(
    conn: Connection, tenant: str, question_ids: Sequence[str]
) -> dict[str, ContributionRow]:
    """The open, live answers of the questions ``question_ids``, by id."""
    return _contribution_rows(await conn.fetch(_ANSWERS_TO, tenant, list(question_ids)))


def _contribution_rows(rows: Sequence[Any]) -> dict[str, ContributionRow]:
    return {
        r["object_id"]: ContributionRow(
            object_id=r["object_id"],
            author_id=r["author_id"],
            kind=r["kind"],
            parent_id=r["parent_id"],
            title=r["title"],
            text=r["text"],
            question_title=r["question_title"],
            question_text=r["question_text"],
            accepted=bool(r["accepted"]),
        )
        for r in rows
    }


@dataclass(frozen=True, slots=True)
class ShownPerson:
    user_id: str
    name: str | None
    title: str | None
    department: str | None


async def people_shown(
    conn: Connection, tenant: str, caller: str, ids: Sequence[str], *, guest: bool
) -> dict[str, ShownPerson]:
    """Those of ``ids`` discovery may show the caller: active people (not bots) of the tenant,
    nobody blocked either way, for a guest only people sharing a group with them."""
    rows = await conn.fetch(
        f"""
        SELECT p.user_id, p.name, p.title, p.department
          FROM people p
         WHERE p.tenant_id = $1 AND p.user_id = ANY ($3::text[]) AND p.active
           AND p.kind <> 'bot' AND {_NOT_BLOCKED}
           AND (NOT $4 OR p.user_id = $2 OR {_SHARES_A_GROUP})
        """,
        tenant,
        caller,
        list(ids),
        guest,
    )
    return {
        r["user_id"]: ShownPerson(r["user_id"], r["name"], r["title"], r["department"])
        for r in rows
    }


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """A question as the visibility rule needs it, to decide who may be told of it."""

    object_id: str
    author_id: str | None
    title: str | None
    text: str
    visibility: str | None
    group_id: str | None
    group_visibility: str | None
    addressees: tuple[str, ...]
    mentions: tuple[str, ...]
    deleted: bool
    published: datetime | None


async def question(conn: Connection, tenant: str, question_id: str) -> QuestionRow | None:
    r = await conn.fetchrow(
        "SELECT p.object_id, p.author_id, p.title, p.text, p.visibility, p.group_id, "
        "g.visibility AS group_visibility, p.addressees, p.mentions, p.deleted, p.published "
        "FROM posts p LEFT JOIN groups g ON g.tenant_id = p.tenant_id "
        "AND g.group_id = p.group_id AND NOT g.deleted "
        "WHERE p.tenant_id = $1 AND p.object_id = $2",
        tenant,
        question_id,
    )
    if r is None:
        return None
    return QuestionRow(
        object_id=r["object_id"],
        author_id=r["author_id"],
        title=r["title"],
        text=r["text"],
        visibility=r["visibility"],
        group_id=r["group_id"],
        group_visibility=r["group_visibility"],
        addressees=tuple(r["addressees"]),
        mentions=tuple(r["mentions"]),
        deleted=r["deleted"],
        published=r["published"],
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible answerer, with their ties to a question and its asker."""

    user_id: str
    guest: bool
    member: bool  # of the question's group
    follows_asker: bool
    blocked: bool  # a block between them and the asker, either way


async def answerers(
    conn: Connection, tenant: str, ids: Sequence[str], *, asker: str | None, group_id: str | None
) -> list[Candidate]:
    """Those of ``ids`` who are active people (not bots), not the asker, with their ties."""
    rows = await conn.fetch(
        """
        SELECT p.user_id, p.kind,
               EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = $1
                          AND m.group_id = $4 AND m.user_id = p.user_id) AS member,
               EXISTS (SELECT 1 FROM follows f WHERE f.tenant_id = $1
                          AND f.follower_id = p.user_id AND f.followee_id = $3) AS follows_asker,
               EXISTS (SELECT 1 FROM blocks b WHERE b.tenant_id = $1
                          AND ((b.blocker_id = p.user_id AND b.blocked_id = $3)
                            OR (b.blocker_id = $3 AND b.blocked_id = p.user_id))) AS blocked
          FROM people p
         WHERE p.tenant_id = $1 AND p.user_id = ANY ($2::text[]) AND p.active
           AND p.kind <> 'bot' AND p.user_id IS DISTINCT FROM $3
        """,
        tenant,
        list(ids),
        asker,
        group_id,
    )
    return [
        Candidate(
            user_id=r["user_id"],
            guest=r["kind"] == "guest",
            member=r["member"],
            follows_asker=r["follows_asker"],
            blocked=r["blocked"],
        )
        for r in rows
    ]
