"""HTTP route: similar questions (issue 18, docs/architecture.md §17) — the questions nearest a
text in meaning that the caller may see, so a client shows "already answered?" while someone
types a question."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from canopy_analytics import semantic_reads
from canopy_analytics.adapters import discovery as discovery_sql
from canopy_analytics.adapters import search as search_sql
from canopy_analytics.api.deps import reading
from canopy_analytics.bootstrap import Collaborators
from canopy_analytics.domain.questions_similar import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_TEXT_LENGTH,
    SimilarQuestions,
)
from canopy_analytics.domain.scopes import is_guest
from canopy_common.auth import CurrentPrincipal
from canopy_common.errors import InvalidInput
from canopy_common.service import collaborators_of
from canopy_common.visibility import Reader

router = APIRouter(tags=["questions"])


def meaningful_text(raw: str, field: str = "text") -> str:
    """``raw`` with its blanks collapsed; 422 when nothing is left or it is too long."""
    if len(raw) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"{field}: at most {MAX_TEXT_LENGTH} characters", extra={"field": field})
    text = " ".join(raw.split())
    if not text:
        raise InvalidInput(f"{field}: give the words of a question", extra={"field": field})
    return text


@router.get(
    "/v1/questions/similar",
    summary="Questions similar in meaning to a text (already answered?)",
    response_model=SimilarQuestions,
)
async def similar_questions(
    request: Request,
    principal: CurrentPrincipal,
    text: Annotated[
        str,
        Query(
            description=f"What someone is asking, in their words (at most {MAX_TEXT_LENGTH} "
            "characters): a title, or a title and body",
            examples=["How do I get a new certificate for the VPN?"],
        ),
    ],
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="How many, most similar first")
    ] = DEFAULT_LIMIT,
) -> SimilarQuestions:
    """The questions closest in meaning to `text` — worded differently, sharing few words —
    most similar first, each with its `score` (cosine similarity of the embedding model's
    vectors), `answered` (it has a live answer) and `accepted` (its asker accepted an answer
    that is still live), its title, a snippet, its author and group. Only questions the caller
    may see, through the one visibility rule (never a private group's question to a
    non-member, an internal one to a guest, a deleted one, one of someone blocked either way,
    another tenant's), and only those at least `CANOPY_ANALYTICS_SIMILARITY_FLOOR` similar:
    an unrelated text finds nothing (200, no items). Not paged: a short ranking, at most
    20. Empty or blank `text` is a 422, so is a text over the maximum length."""
    wanted = meaningful_text(text)
    service = collaborators_of(request, Collaborators)
    semantics = service.semantics
    query = await semantics.query(wanted)
    tenant, me = principal.tenant_id, principal.user_id
    async with reading(request) as conn:
        viewer = await discovery_sql.viewer(conn, tenant, me)
        reader = Reader(id=me, guest=is_guest(principal, viewer.kind))
        blocked = frozenset(await search_sql.blocked(conn, tenant, me))
        vectors = await semantics.index.tenant(conn, tenant)
        items = await semantic_reads.similar_questions(
            conn,
            vectors,
            query,
            tenant=tenant,
            reader=reader,
            blocked=blocked,
            limit=limit,
            floor=service.settings.similarity_floor,
        )
    return SimilarQuestions(items=items, model=semantics.embedder.model)
