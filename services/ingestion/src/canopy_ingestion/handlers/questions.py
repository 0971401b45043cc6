"""``GET /v1/questions``: the questions the caller may see, newest first, by status, group
hashtag and author (docs/architecture.md §16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import NotFound
from canopy_common.paging import Page, decode_cursor, encode_cursor, trim
from canopy_common.visibility import group_visibilities_seen
from canopy_ingestion.adapters import posts as store
from canopy_ingestion.adapters.questions import QuestionQuery, questions_page
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.permissions import can_see_group
from canopy_ingestion.domain.questions import QuestionStatus, criteria
from canopy_ingestion.domain.text import validate_hashtag
from canopy_ingestion.handlers.post_views import readable, render_for


@dataclass(frozen=True)
class ListQuestions:
    status: QuestionStatus | None = None
    group_id: str | None = None
    tag: str | None = None  # with or without '#', any case
    author: str | None = None  # a user id
    limit: int = 20
    cursor: str | None = None


async def list_questions(
    query: ListQuestions, *, conn: Connection, actor: User
) -> Page[dict[str, Any]]:
    """A page of the questions ``actor`` may see (each as they read it). A group they cannot
    see is a 404; a page may hold fewer than ``limit`` questions (those hidden from the
    caller are dropped after the page is read), and only the last has no ``next_cursor``."""
    if query.group_id is not None:
        found = await store.group_with_role(conn, actor.tenant_id, query.group_id, actor.id)
        if found is None or not can_see_group(actor, *found):
            raise NotFound(f"no group {query.group_id!r}")
    after = decode_cursor(query.cursor, (datetime, str)) if query.cursor else None
    rows = await questions_page(
        conn,
        actor.tenant_id,
        actor.id,
        QuestionQuery(
            group_visibilities=group_visibilities_seen(guest=actor.is_guest),
            criteria=criteria(query.status) if query.status else None,
            group_id=query.group_id,
            tag=validate_hashtag(query.tag) if query.tag is not None else None,
            author_id=query.author,
            after=(after[0], after[1]) if after else None,
        ),
        limit=query.limit + 1,
    )
    page, more = trim(rows, query.limit)
    last = page[-1].post if page else None
    shown = [ctx for ctx in page if readable(actor, ctx)]
    return Page(
        items=await render_for(conn, actor, shown),
        next_cursor=encode_cursor(last.published, last.id) if more and last else None,
    )
