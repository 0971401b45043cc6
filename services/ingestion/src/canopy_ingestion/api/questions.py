"""HTTP route: the questions people may answer (docs/architecture.md §16)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from canopy_common.auth import CurrentPrincipal
from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, Page
from canopy_ingestion.api.deps import (
    ID_MAX_LENGTH,
    CurrentRuntime,
    caller_transaction,
)
from canopy_ingestion.api.paged import page_response
from canopy_ingestion.api.post_schemas import PostDocument
from canopy_ingestion.domain.questions import QuestionStatus
from canopy_ingestion.domain.text import HASHTAG_MAX_LENGTH
from canopy_ingestion.handlers.questions import ListQuestions, list_questions

router = APIRouter(prefix="/v1/questions", tags=["posts"])


@router.get(
    "",
    response_model=Page[PostDocument],
    responses=problems(400, 404),
    summary="List questions: unanswered, answered or accepted",
    description="The questions you may see, newest first, each as you read it. `status`: "
    "`unanswered` (no live answer), `answered` (answers, none accepted), `accepted` (its "
    "accepted answer is live). `group_id`: a group you see (else 404); `tag`: a hashtag. "
    'Pages: `limit`, `cursor`, `Link: <...>; rel="next"`; a page may hold fewer than '
    "`limit` questions (those you may not see are left out), the last has no `next_cursor`. "
    "A cursor this API did not give out: 400.",
)
async def get_questions(
    request: Request,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    status: Annotated[QuestionStatus | None, Query(description="Where questions stand")] = None,
    group_id: Annotated[
        str | None, Query(max_length=ID_MAX_LENGTH, description="Questions in this group")
    ] = None,
    tag: Annotated[
        str | None,
        Query(
            max_length=HASHTAG_MAX_LENGTH + 1,
            description="Questions with this hashtag (with or without '#', any case)",
            examples=["release"],
        ),
    ] = None,
    author: Annotated[
        str | None,
        Query(max_length=ID_MAX_LENGTH, description="Questions asked by this person (user id)"),
    ] = None,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> Response:
    query = ListQuestions(
        status=status, group_id=group_id, tag=tag, author=author, limit=limit, cursor=cursor
    )
    async with caller_transaction(runtime, principal) as (conn, actor):
        page = await list_questions(query, conn=conn, actor=actor)
    return page_response(request, page, limit)
