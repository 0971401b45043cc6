"""Questions routed to likely answerers in Postgres (docs/architecture.md §17 "Routing questions
to experts"): armed from a question's Create, their answers and deletion tracked from
activities, their candidates stored from ``canopy.question-experts.v1``, claimed when due with
``FOR UPDATE SKIP LOCKED`` like task reminders (several workers share them; each question is
decided once). Repositories never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_common.audience import Item
from canopy_common.db import Connection
from canopy_common.question_experts import Expert, QuestionExperts
from canopy_notify.domain.model import Occurrence
from canopy_notify.domain.routing import Outcome, item_from_json, item_json


@dataclass(frozen=True, slots=True)
class DueQuestion:
    tenant_id: str
    question_id: str
    asker_id: str
    item: Item
    summary: dict[str, Any]
    group_id: str | None
    thread_id: str | None
    attempts: int
    answered: bool
    experts: tuple[Expert, ...] | None  # None: not arrived yet


async def arm(conn: Connection, occ: Occurrence, item: Item, due_at: datetime | None) -> None:
    """Remember a new question (``item``, from ``occ``), due at ``due_at`` (None: the tenant
    routes none, decided ``off`` at once). A redelivered Create changes nothing."""
    await conn.execute(
        "INSERT INTO routed_questions (tenant_id, question_id, asker_id, item, summary, "
        "group_id, thread_id, published, due_at, outcome, decided_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::timestamptz, $8), $10, $11) "
        "ON CONFLICT (tenant_id, question_id) DO NOTHING",
        occ.tenant_id,
        item.object_id,
        item.author_id,
        item_json(item),
        occ.summary,
        occ.group_id,
        occ.thread_id,
        occ.published,
        due_at,
        None if due_at is not None else Outcome.OFF.value,
        None if due_at is not None else occ.published,
    )
    if due_at is None:
        await _forget_experts(conn, occ.tenant_id, item.object_id)


async def refresh(conn: Connection, occ: Occurrence, item: Item) -> None:
    """An edited question (``item``) still pending: its audience and summary as they are
    now."""
    await conn.execute(
        "UPDATE routed_questions SET item = $3, summary = $4 "
        "WHERE tenant_id = $1 AND question_id = $2 AND outcome IS NULL",
        occ.tenant_id,
        item.object_id,
        item_json(item),
        occ.summary,
    )


async def add_answer(conn: Connection, tenant: str, question_id: str, answer_id: str) -> None:
    """A live answer to ``question_id`` (kept whether or not the question is known yet: an
    answer's activity may come before its question's, keyed by another person)."""
    await conn.execute(
        "INSERT INTO question_answers (tenant_id, question_id, answer_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        tenant,
        question_id,
        answer_id,
    )


async def deleted(conn: Connection, tenant: str, object_id: str) -> None:
    """A deleted post: an answer no longer counts; a pending question is never routed."""
    await conn.execute(
        "DELETE FROM question_answers WHERE tenant_id = $1 AND answer_id = $2", tenant, object_id
    )
    status = await conn.execute(
        "UPDATE routed_questions SET outcome = $3, decided_at = now() "
        "WHERE tenant_id = $1 AND question_id = $2 AND outcome IS NULL",
        tenant,
        object_id,
        Outcome.DELETED.value,
    )
    if status.split()[-1] != "0":
        await _forget_experts(conn, tenant, object_id)


async def store_experts(conn: Connection, record: QuestionExperts) -> bool:
    """Keep ``record`` unless a later ranking of the question is kept already or its route
    was decided; whether it was kept (a redelivery or an old ranking is not)."""
    status = await conn.execute(
        "INSERT INTO question_experts (tenant_id, question_id, asker_id, computed_at, model, "
        "experts) SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM "
        "routed_questions WHERE tenant_id = $1 AND question_id = $2 AND outcome IS NOT NULL) "
        "ON CONFLICT (tenant_id, question_id) DO UPDATE SET asker_id = excluded.asker_id, "
        "computed_at = excluded.computed_at, model = excluded.model, experts = excluded.experts "
        "WHERE question_experts.computed_at < excluded.computed_at",
        record.tenant,
        record.question_id,
        record.asker_id,
        record.computed_at,
        record.model,
        [expert.model_dump(mode="json") for expert in record.experts],
    )
    return status.split()[-1] != "0"


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[DueQuestion]:
    """Questions due by ``now``, locked for this transaction (skipping those another worker
    holds), with whether they have a live answer, their candidates if arrived, and their
    group's visibility now. The caller decides each (:func:`decide`) or re-arms it."""
    rows = await conn.fetch(
        "SELECT q.tenant_id, q.question_id, q.asker_id, q.item, q.summary, q.group_id, "
        "q.thread_id, q.attempts, g.visibility AS group_visibility, e.experts, "
        "EXISTS (SELECT 1 FROM question_answers a WHERE a.tenant_id = q.tenant_id "
        "AND a.question_id = q.question_id) AS answered "
        "FROM routed_questions q "
        "LEFT JOIN groups g ON g.tenant_id = q.tenant_id AND g.group_id = q.group_id "
        "LEFT JOIN question_experts e ON e.tenant_id = q.tenant_id "
        "AND e.question_id = q.question_id "
        "WHERE q.due_at <= $1 AND q.outcome IS NULL ORDER BY q.due_at LIMIT $2 "
        "FOR UPDATE OF q SKIP LOCKED",
        now,
        limit,
    )
    return [
        DueQuestion(
            tenant_id=r["tenant_id"],
            question_id=r["question_id"],
            asker_id=r["asker_id"],
            item=item_from_json(r["tenant_id"], r["item"], group_visibility=r["group_visibility"]),
            summary=dict(r["summary"]),
            group_id=r["group_id"],
            thread_id=r["thread_id"],
            attempts=r["attempts"],
            answered=r["answered"],
            experts=None
            if r["experts"] is None
            else tuple(Expert.model_validate(e, strict=False) for e in r["experts"]),
        )
        for r in rows
    ]


async def decide(conn: Connection, due: DueQuestion, outcome: Outcome, at: datetime) -> None:
    """``due``'s route is decided: never again, and its candidates are no longer needed."""
    await conn.execute(
        "UPDATE routed_questions SET outcome = $3, decided_at = $4 "
        "WHERE tenant_id = $1 AND question_id = $2",
        due.tenant_id,
        due.question_id,
        outcome.value,
        at,
    )
    await _forget_experts(conn, due.tenant_id, due.question_id)


async def rearm(conn: Connection, due: DueQuestion, at: datetime) -> None:
    """``due`` came before its candidates: due again at ``at``."""
    await conn.execute(
        "UPDATE routed_questions SET due_at = $3, attempts = attempts + 1 "
        "WHERE tenant_id = $1 AND question_id = $2",
        due.tenant_id,
        due.question_id,
        at,
    )


async def erase_person(conn: Connection, tenant: str, uid: str) -> None:
    """An erased person: their questions are routed no more, and no ranking names them."""
    await conn.execute(
        "DELETE FROM routed_questions WHERE tenant_id = $1 AND asker_id = $2", tenant, uid
    )
    await conn.execute(
        "DELETE FROM question_experts WHERE tenant_id = $1 AND asker_id = $2", tenant, uid
    )
    await conn.execute(
        "UPDATE question_experts SET experts = coalesce((SELECT jsonb_agg(e ORDER BY n) "
        "FROM jsonb_array_elements(experts) WITH ORDINALITY AS x(e, n) "
        "WHERE e->>'user_id' <> $2::text), '[]'::jsonb) WHERE tenant_id = $1 "
        "AND experts @> jsonb_build_array(jsonb_build_object('user_id', $2::text))",
        tenant,
        uid,
    )


async def _forget_experts(conn: Connection, tenant: str, question_id: str) -> None:
    await conn.execute(
        "DELETE FROM question_experts WHERE tenant_id = $1 AND question_id = $2",
        tenant,
        question_id,
    )
