"""A page of a tenant's questions (docs/architecture.md §16), newest first, each as the viewer
meets it (:func:`~canopy_ingestion.adapters.posts.select_contexts`), in one keyset query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.visibility import GroupVisibility
from canopy_ingestion.adapters.posts import PostContext, context_from_row, select_contexts

# A question has a live answer; its accepted answer is live (domain.questions.criteria).
_ANSWERED = """EXISTS (
    SELECT 1 FROM posts a
    WHERE a.tenant_id = p.tenant_id AND a.in_reply_to = p.id AND a.kind = 'answer'
      AND a.deleted_at IS NULL)"""
_ACCEPTED = """EXISTS (
    SELECT 1 FROM posts a
    WHERE a.tenant_id = p.tenant_id AND a.id = p.accepted_answer_id AND a.deleted_at IS NULL)"""


@dataclass(frozen=True)
class QuestionQuery:
    """Which questions: ``criteria`` (a live answer, a live accepted answer) or any;
    ``group_visibilities`` are the groups' visibilities the viewer sees as a non-member (a
    question in another group of which they are no member cannot be theirs to see)."""

    group_visibilities: Sequence[GroupVisibility]
    criteria: tuple[bool, bool] | None = None
    group_id: str | None = None
    tag: str | None = None
    author_id: str | None = None
    after: tuple[datetime, str] | None = None  # (created_at, id) of the last one seen


async def questions_page(
    conn: Connection, tenant_id: str, viewer_id: str, query: QuestionQuery, *, limit: int
) -> list[PostContext]:
    """Up to ``limit`` live questions of the tenant, newest first. The group filter only narrows
    the rows read; whether the viewer sees each is for the visibility rule to decide."""
    args: list[Any] = [tenant_id, viewer_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    seen = [v.value for v in query.group_visibilities]
    conditions = [
        "p.tenant_id = $1",
        "p.kind = 'question'",
        "p.deleted_at IS NULL",
        f"(p.group_id IS NULL OR m.role IS NOT NULL OR g.visibility = ANY({arg(seen)}::text[]))",
    ]
    if query.group_id is not None:
        conditions.append(f"p.group_id = {arg(query.group_id)}")
    if query.tag is not None:
        conditions.append(f"{arg(query.tag)} = ANY(p.hashtags)")
    if query.author_id is not None:
        conditions.append(f"p.author_id = {arg(query.author_id)}")
    if query.criteria is not None:
        answered, accepted = query.criteria
        conditions.append(f"{_ANSWERED} = {arg(answered)}")
        conditions.append(f"{_ACCEPTED} = {arg(accepted)}")
    if query.after is not None:
        created, post_id = query.after
        conditions.append(f"(p.created_at, p.id) < ({arg(created)}, {arg(post_id)})")
    rows = await conn.fetch(
        select_contexts("$2") + f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY p.created_at DESC, p.id DESC LIMIT {arg(limit)}",
        *args,
    )
    return [context_from_row(row) for row in rows]
