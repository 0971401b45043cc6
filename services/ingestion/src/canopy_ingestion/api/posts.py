"""HTTP routes: posts, answers, reactions (and who reacted), shares and flags.

Routes parse, open the request's one transaction and call a handler. Every POST honours an
``Idempotency-Key``: inside that transaction the stored first response is replayed, or the
command runs and its response is stored with it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from canopy_common.auth import CurrentPrincipal, Principal, Role
from canopy_common.db import Connection
from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, Page
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.adapters.people import Caller
from canopy_ingestion.adapters.posts import NO_VIEW
from canopy_ingestion.api.deps import (
    CurrentActor,
    CurrentRuntime,
    IdempotencyKey,
    caller_transaction,
    once,
    once_as,
    reply_response,
    transaction,
)
from canopy_ingestion.api.paged import page_response
from canopy_ingestion.api.post_schemas import (
    AcceptBody,
    AnnounceDocument,
    FlagBody,
    FlagOut,
    NewPostBody,
    PostDocument,
    PostEditBody,
    PostId,
    ReactionOut,
    ReactorOut,
)
from canopy_ingestion.domain.model import PostKind, ReactionKind
from canopy_ingestion.handlers import posts as handlers
from canopy_ingestion.handlers import reactions
from canopy_ingestion.handlers.post_views import document, reader_view
from canopy_ingestion.handlers.post_work import ConnectionWork
from canopy_ingestion.handlers.posts import NewPost, PostEdit

router = APIRouter(prefix="/v1/posts", tags=["posts"])


def _moderates(principal: Principal) -> bool:
    return principal.has_role(Role.MODERATOR)


@router.post(
    "",
    status_code=201,
    response_model=PostDocument,
    responses=problems(403, 404, 409, 422),
    summary="Publish a post, a question, an answer or a reply",
)
async def create_post(
    body: NewPostBody,
    request: Request,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    key: IdempotencyKey = None,
) -> Response:
    """Publishes a `Create`. A match of the tenant's content policy is refused (422) where
    guests could read it, and otherwise accepted and flagged to moderators. The caller must
    be an active person of the tenant (else 403). An `announcement` goes into a group from
    its admins and owners only, and to the whole tenant (no `group_id`) from tenant admins
    only (else 403). An archived group takes no posts or replies (409)."""
    new = NewPost(
        content=body.content,
        kind=PostKind(body.kind),
        name=body.name,
        group_id=body.group_id,
        visibility=body.visibility,
        to=tuple(body.to or ()),
        in_reply_to=body.in_reply_to,
    )
    admin = principal.has_role(Role.TENANT_ADMIN)
    return await once_as(
        request,
        runtime,
        principal,
        key,
        body,
        lambda conn, caller: _create(new, conn, caller, tenant_admin=admin),
    )


async def _create(new: NewPost, conn: Connection, caller: Caller, *, tenant_admin: bool) -> Reply:
    work = ConnectionWork(conn, tenant=caller.tenant)
    created = await handlers.create_post(
        new, work=work, actor=caller.user, tenant_admin=tenant_admin
    )
    await work.flush()  # in the route's transaction (or alone: one statement)
    return Reply(201, document(reader_view(created, NO_VIEW)))  # nothing on it yet


@router.get(
    "/{post_id}", response_model=PostDocument, responses=problems(403, 404), summary="Read a post"
)
async def read_post(
    post_id: PostId, runtime: CurrentRuntime, actor: CurrentActor, principal: CurrentPrincipal
) -> Response:
    """404 unless the caller may see it (moderators see every post of their tenant)."""
    async with transaction(runtime, actor.tenant_id) as conn:
        body = await handlers.read_post(
            post_id, conn=conn, actor=actor, moderator=_moderates(principal)
        )
    return reply_response(Reply(200, body))


@router.patch(
    "/{post_id}",
    response_model=PostDocument,
    responses=problems(403, 404, 422),
    summary="Edit your post",
)
async def edit_post(
    post_id: PostId, body: PostEditBody, runtime: CurrentRuntime, actor: CurrentActor
) -> Response:
    """The author only (others: 403, or 404 when they cannot see it). Publishes an `Update`
    with the whole new object; mentions, hashtags and the content policy are applied again."""
    edit = PostEdit(
        fields=frozenset(body.model_fields_set),
        content=body.content,
        name=body.name,
        visibility=body.visibility,
        to=tuple(body.to or ()),
    )
    async with transaction(runtime, actor.tenant_id) as conn:
        reply = await handlers.edit_post(post_id, edit, conn=conn, actor=actor)
    return reply_response(reply)


@router.delete("/{post_id}", status_code=204, responses=problems(403, 404), summary="Delete a post")
async def delete_post(
    post_id: PostId, runtime: CurrentRuntime, actor: CurrentActor, principal: CurrentPrincipal
) -> Response:
    """Its author, an admin or owner of its group, or a moderator. Publishes a `Delete` of a
    `Tombstone`; the post answers 404 afterwards."""
    async with transaction(runtime, actor.tenant_id) as conn:
        await handlers.delete_post(post_id, conn=conn, actor=actor, moderator=_moderates(principal))
    return Response(status_code=204)


@router.post(
    "/{post_id}/accept",
    response_model=PostDocument,
    responses=problems(403, 404, 422),
    summary="Accept an answer to your question",
)
async def accept_answer(
    post_id: PostId,
    body: AcceptBody,
    request: Request,
    runtime: CurrentRuntime,
    actor: CurrentActor,
    key: IdempotencyKey = None,
) -> Response:
    """The question's author only. Publishes an `Accept` (object: the answer, target: the
    question); accepting the accepted answer again changes nothing. Answers the question."""
    return await once(
        request,
        runtime,
        actor,
        key,
        body,
        lambda conn: handlers.accept_answer(post_id, body.answer_id, conn=conn, actor=actor),
    )


@router.put(
    "/{post_id}/reactions/{kind}",
    status_code=201,
    response_model=ReactionOut,
    responses={
        200: {"description": "You had already reacted so", "model": ReactionOut},
        **problems(404, 422),
    },
    summary="React to a post",
)
async def react(
    post_id: PostId, kind: ReactionKind, runtime: CurrentRuntime, actor: CurrentActor
) -> Response:
    """Publishes a `Like` carrying `reaction: <kind>` the first time (201); again, 200 and
    nothing new."""
    async with transaction(runtime, actor.tenant_id) as conn:
        reply = await reactions.react(post_id, kind, conn=conn, actor=actor)
    return reply_response(reply)


@router.get(
    "/{post_id}/reactions",
    response_model=Page[ReactorOut],
    responses=problems(400, 404),
    summary="Who reacted to a post",
    description="Newest first; `kind` for one kind of reaction. 404 unless you may see the "
    "post. People are listed as you may see them (a guest sees the people they share a group "
    "with; people no longer active are not listed), so a page may hold fewer than `limit`. "
    'Pages: `limit`, `cursor`, `Link: <...>; rel="next"`; a cursor this API did not give '
    "out: 400.",
)
async def list_reactions(
    post_id: PostId,
    request: Request,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    kind: Annotated[ReactionKind | None, Query(description="Only this kind")] = None,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> Response:
    async with caller_transaction(runtime, principal) as (conn, actor):
        page = await reactions.list_reactions(
            post_id,
            conn=conn,
            actor=actor,
            kind=kind,
            limit=limit,
            cursor=cursor,
            moderator=_moderates(principal),
        )
    return page_response(request, page, limit)


@router.delete(
    "/{post_id}/reactions/{kind}",
    status_code=204,
    responses=problems(404, 422),
    summary="Take a reaction back",
)
async def unreact(
    post_id: PostId, kind: ReactionKind, runtime: CurrentRuntime, actor: CurrentActor
) -> Response:
    """Publishes an `Undo` of the original `Like`; 404 when there is no such reaction."""
    async with transaction(runtime, actor.tenant_id) as conn:
        await reactions.unreact(post_id, kind, conn=conn, actor=actor)
    return Response(status_code=204)


@router.post(
    "/{post_id}/shares",
    status_code=201,
    response_model=AnnounceDocument,
    responses=problems(404, 422),
    summary="Share a post",
)
async def share(
    post_id: PostId,
    request: Request,
    runtime: CurrentRuntime,
    actor: CurrentActor,
    key: IdempotencyKey = None,
) -> Response:
    """Publishes an `Announce` with the post's own visibility (a share never widens its
    audience); followers-only and direct posts cannot be shared."""
    return await once(
        request,
        runtime,
        actor,
        key,
        None,
        lambda conn: reactions.share(post_id, conn=conn, actor=actor),
    )


@router.post(
    "/{post_id}/flags",
    status_code=201,
    response_model=FlagOut,
    responses=problems(404, 409, 422),
    summary="Report a post to the moderators",
)
async def flag(
    post_id: PostId,
    body: FlagBody,
    request: Request,
    runtime: CurrentRuntime,
    actor: CurrentActor,
    key: IdempotencyKey = None,
) -> Response:
    """Publishes a `Flag` (visibility `direct`, no `to`: moderators are found by role). One
    open report per person and post: another before the moderators decide is a 409."""
    return await once(
        request,
        runtime,
        actor,
        key,
        body,
        lambda conn: reactions.flag(post_id, body.reason, conn=conn, actor=actor),
    )
