"""The read side of search by meaning (docs/architecture.md §17): similar questions, experts
for a text, and the likely answerers of a question — from the nearest vectors through the
rows read again in SQL and the one visibility rule to the answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canopy_analytics.adapters import nearest_rows as sql
from canopy_analytics.adapters.vector_index import TenantVectors
from canopy_analytics.domain import discovery, similarity
from canopy_analytics.domain.discovery import CloseItem, Contribution, TextExpert
from canopy_analytics.domain.questions_similar import SimilarQuestion
from canopy_analytics.domain.similarity import Vector
from canopy_common.visibility import Content, Reader, Ties, may_see

# Read this many nearest questions per wanted one: the rule drops those the caller may not
# see; a tenant where most questions are hidden from the caller reads more (up to the cap).
OVERFETCH = 4
MAX_SIMILAR_READ = 400


async def similar_questions(
    conn: Any,
    vectors: TenantVectors,
    query: Vector,
    *,
    tenant: str,
    reader: Reader,
    blocked: frozenset[str],
    limit: int,
    floor: float,
) -> list[SimilarQuestion]:
    """The questions nearest ``query`` the reader may see, at least ``floor`` similar, best
    first: ``limit`` of them, unless fewer pass the rule among the nearest read."""
    k = limit * OVERFETCH
    while True:
        near = [
            (row, score)
            for row, score in similarity.nearest(vectors.matrix, query, vectors.is_question, k)
            if score >= floor
        ]
        ids = [vectors.object_ids[row] or "" for row, _ in near]
        rows = await sql.questions(conn, tenant, ids, reader.id)
        found = [
            _similar(rows[object_id], score)
            for object_id, (_, score) in zip(ids, near, strict=True)
            if object_id in rows and _sees(reader, blocked, rows[object_id])
        ]
        exhausted = len(near) < k or k >= MAX_SIMILAR_READ
        if len(found) >= limit or exhausted:
            return found[:limit]
        k = min(k * OVERFETCH, MAX_SIMILAR_READ)


def _sees(reader: Reader, blocked: frozenset[str], row: Mapping[str, Any]) -> bool:
    author = row["author_id"]
    post = Content(
        author_id=author,
        visibility=row["visibility"],
        group_id=row["group_id"],
        group_visibility=row["group_visibility"],
        addressees=row["addressees"],
        mentions=row["mentions"],
    )
    ties = Ties(
        follows=frozenset({author}) if row["follows_author"] and author else frozenset(),
        member=row["member"],
        blocked=author in blocked,
    )
    return may_see(reader, post, ties)


def _similar(row: Mapping[str, Any], score: float) -> SimilarQuestion:
    return SimilarQuestion.of(row, score)


async def close_items(
    conn: Any,
    vectors: TenantVectors,
    query: Vector,
    *,
    tenant: str,
    floor: float,
    leave_out: frozenset[str] = frozenset(),
) -> list[CloseItem]:
    """What people wrote that every employee may see, nearest ``query`` (at least ``floor``),
    as the ranking of experts reads it; ``leave_out`` ids are skipped (the question itself)."""
    near = [
        (row, score)
        for row, score in similarity.nearest(
            vectors.matrix, query, vectors.is_open, discovery.TEXT_NEIGHBOURS
        )
        if score >= floor and vectors.object_ids[row] not in leave_out
    ]
    scores = {vectors.object_ids[row] or "": score for row, score in near}
    rows = await sql.contributions(conn, tenant, list(scores))
    # An answer means what its question asks, whatever words it uses ("run make kubeconfig"
    # answers "how do I get into the staging cluster"): the answers of a close question are
    # as close as it is, or closer by their own words.
    questions = {i: s for i, s in scores.items() if i in rows and rows[i].kind == "question"}
    for answer_id, answer in (await sql.answers_to(conn, tenant, list(questions))).items():
        if answer_id in leave_out:
            continue
        via = questions[answer.parent_id or ""]
        scores[answer_id] = max(scores.get(answer_id, via), via)
        rows[answer_id] = answer
    items: list[CloseItem] = []
    for object_id, score in scores.items():
        found = rows.get(object_id)
        if found is None:
            continue  # deleted, blanked or no longer open since its vector was read
        if found.kind == "answer":
            contribution = Contribution.ACCEPTED_ANSWER if found.accepted else Contribution.ANSWER
        elif found.kind == "question" and found.parent_id is None:
            contribution = Contribution.QUESTION
        else:
            contribution = Contribution.POST
        items.append(
            CloseItem(
                object_id=object_id,
                author_id=found.author_id,
                contribution=contribution,
                similarity=score,
                kind=found.kind,
                quote=discovery.quote(found.title, found.text),
                question_quote=discovery.quote(found.question_title, found.question_text),
                question_id=found.parent_id,
            )
        )
    return items


async def likely_answerers(
    conn: Any,
    vectors: TenantVectors,
    query: Vector,
    *,
    tenant: str,
    question: sql.QuestionRow,
    floor: float,
    limit: int,
) -> list[TextExpert]:
    """People whose open writing is nearest the question, who may see it: never its asker,
    nobody inactive, a bot or blocked either way with the asker (docs §17)."""
    items = await close_items(
        conn, vectors, query, tenant=tenant, floor=floor, leave_out=frozenset({question.object_id})
    )
    leave_out = frozenset({question.author_id} if question.author_id else ())
    ranked = discovery.rank_text_experts(items, len(items) or 1, leave_out=leave_out)
    candidates = await sql.answerers(
        conn,
        tenant,
        [e.user_id for e in ranked],
        asker=question.author_id,
        group_id=question.group_id,
    )
    allowed = {c.user_id for c in candidates if _may_see_question(c, question)}
    return [e for e in ranked if e.user_id in allowed][:limit]


def _may_see_question(candidate: sql.Candidate, question: sql.QuestionRow) -> bool:
    post = Content(
        author_id=question.author_id,
        visibility=question.visibility,
        group_id=question.group_id,
        group_visibility=question.group_visibility,
        addressees=question.addressees,
        mentions=question.mentions,
        deleted=question.deleted,
    )
    asker = question.author_id
    ties = Ties(
        follows=frozenset({asker}) if candidate.follows_asker and asker else frozenset(),
        member=candidate.member,
        blocked=candidate.blocked,
    )
    return may_see(Reader(candidate.user_id, guest=candidate.guest), post, ties)
