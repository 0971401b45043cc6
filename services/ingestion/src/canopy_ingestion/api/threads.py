"""HTTP route: a post's thread around it (docs/architecture.md §16)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from canopy_common.auth import CurrentPrincipal, Role
from canopy_common.openapi import problems
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.api.deps import (
    CurrentRuntime,
    caller_transaction,
    reply_response,
)
from canopy_ingestion.api.post_schemas import PostId, ThreadContext
from canopy_ingestion.handlers.threads import read_context

router = APIRouter(prefix="/v1/posts", tags=["posts"])


@router.get(
    "/{post_id}/context",
    response_model=ThreadContext,
    responses=problems(404),
    summary="Read a post's thread: its ancestors and its replies",
    description="`ancestors`: root first, up to the post's parent; `descendants`: the "
    "replies below it in thread order (depth first by reply, a post's replies oldest first). "
    "Answers are `kind: answer`, the accepted one `accepted: true`. Each post as you read it "
    "(`reactions`, `my_reactions`, `replies_count`, `bookmarked`). Deleted posts and posts "
    "you may not see are left out (their visible replies keep their place; `inReplyTo` names "
    "what they answer). 404 unless you may see the post (moderators see every post).",
)
async def read_post_context(
    post_id: PostId, runtime: CurrentRuntime, principal: CurrentPrincipal
) -> Response:
    async with caller_transaction(runtime, principal) as (conn, actor):
        body = await read_context(
            post_id, conn=conn, actor=actor, moderator=principal.has_role(Role.MODERATOR)
        )
    return reply_response(Reply(200, body))
