"""``/posts/{uuid}``: a post in its thread — the posts above it, the post, its replies and
answers — and what a reader does to a post: react, bookmark, share, report, accept an answer
to their question, edit or delete their own.

Each action is a form POST answered 303 back to the page it came from; with htmx the post's
card comes back re-read from ingestion and replaces the old one. A post the reader may not
see, or an unknown id, is ingestion's 404 (403) shown as the error page."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import RedirectResponse, Response

from canopy_web.api import Api, ApiError, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.posting import REACTION_KINDS, post_urn, reply_depths
from canopy_web.rendering import is_htmx, local_path, post_path, render
from canopy_web.sessions import Session
from canopy_web.strings import t

router = APIRouter(dependencies=[Depends(csrf_protected)])

PostUuid = Annotated[str, Path(max_length=64)]
Back = Annotated[str, Form(alias="next", max_length=512)]
# Refusals a reader can act on, shown on the card instead of an error page.
_SHOWN_ON_CARD = frozenset({403, 404, 409, 422})


def _urn(uuid: str) -> str:
    urn = post_urn(uuid)
    if urn is None:
        raise HTTPException(404)
    return urn


async def thread_page(
    request: Request,
    session: Session,
    api: Api,
    uuid: str,
    *,
    draft: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The thread page; ``draft`` and ``error`` when a reply was refused (no JS)."""
    urn = _urn(uuid)
    path = f"/v1/posts/{urn}"
    post, context = await asyncio.gather(
        api.get(Service.INGESTION, path), api.get(Service.INGESTION, path + "/context")
    )
    descendants = context.get("descendants", [])
    return await render(
        request,
        "feed/thread.html",
        session=session,
        api=api,
        status_code=status,
        post=post,
        ancestors=context.get("ancestors", []),
        descendants=descendants,
        depths=reply_depths(post["id"], descendants),
        thread_path=post_path(post["id"]),
        draft=draft or {},
        error=error,
    )


@router.get("/posts/{uuid}", include_in_schema=False)
async def thread(
    request: Request, uuid: PostUuid, session: CurrentSession, api: CurrentApi
) -> Response:
    return await thread_page(request, session, api, uuid)


async def _answer(
    request: Request,
    session: Session,
    api: Api,
    urn: str,
    back: str,
    notice: str | None = None,
) -> Response:
    """After an action: the card again (htmx), or back to the page it came from."""
    back = local_path(back, post_path(urn))
    if not is_htmx(request):
        return RedirectResponse(back, status_code=303)
    post = await api.get(Service.INGESTION, f"/v1/posts/{urn}")
    return await render(
        request, "feed/card.html", session=session, post=post, back=back, notice=notice
    )


async def _act(
    request: Request, session: Session, api: Api, uuid: str, back: str, method: str, path: str,
    *, json: Any = None, done: str | None = None,
) -> Response:  # fmt: skip
    urn = _urn(uuid)
    try:
        await api.send(method, Service.INGESTION, path.format(id=urn), json=json)
    except ApiError as exc:
        if exc.status not in _SHOWN_ON_CARD or not is_htmx(request):
            raise
        return await _answer(
            request, session, api, urn, back, t("post.refused", detail=exc.detail or exc.title)
        )
    return await _answer(request, session, api, urn, back, done)


@router.post("/posts/{uuid}/react", include_in_schema=False)
async def react(
    request: Request,
    uuid: PostUuid,
    session: CurrentSession,
    api: CurrentApi,
    kind: Annotated[str, Form(max_length=16)],
    on: Annotated[bool, Form()] = True,
    back: Back = "",
) -> Response:
    if kind not in REACTION_KINDS:
        raise HTTPException(400)
    method = "PUT" if on else "DELETE"
    return await _act(request, session, api, uuid, back, method, "/v1/posts/{id}/reactions/" + kind)


@router.post("/posts/{uuid}/bookmark", include_in_schema=False)
async def bookmark(
    request: Request,
    uuid: PostUuid,
    session: CurrentSession,
    api: CurrentApi,
    on: Annotated[bool, Form()] = True,
    back: Back = "",
) -> Response:
    method = "PUT" if on else "DELETE"
    return await _act(request, session, api, uuid, back, method, "/v1/bookmarks/{id}")


@router.post("/posts/{uuid}/share", include_in_schema=False)
async def share(
    request: Request, uuid: PostUuid, session: CurrentSession, api: CurrentApi, back: Back = ""
) -> Response:
    return await _act(
        request, session, api, uuid, back, "POST", "/v1/posts/{id}/shares", done=t("post.shared")
    )


@router.post("/posts/{uuid}/flag", include_in_schema=False)
async def flag(
    request: Request,
    uuid: PostUuid,
    session: CurrentSession,
    api: CurrentApi,
    reason: Annotated[str, Form(max_length=2000)],
    back: Back = "",
) -> Response:
    return await _act(
        request, session, api, uuid, back, "POST", "/v1/posts/{id}/flags",
        json={"reason": reason}, done=t("post.flagged"),
    )  # fmt: skip


@router.post("/posts/{uuid}/accept", include_in_schema=False)
async def accept(
    request: Request,
    uuid: PostUuid,
    session: CurrentSession,
    api: CurrentApi,
    question: Annotated[str, Form(max_length=256)],
    back: Back = "",
) -> Response:
    """Accept the answer ``uuid`` to ``question`` (the question's author only: else 403)."""
    answer = _urn(uuid)
    asked = _urn(question.removeprefix("urn:uuid:"))
    await api.send(
        "POST", Service.INGESTION, f"/v1/posts/{asked}/accept", json={"answer_id": answer}
    )
    return RedirectResponse(local_path(back, post_path(asked)), status_code=303)


@router.post("/posts/{uuid}/edit", include_in_schema=False)
async def edit(
    request: Request,
    uuid: PostUuid,
    session: CurrentSession,
    api: CurrentApi,
    content: Annotated[str, Form()],
    back: Back = "",
) -> Response:
    return await _act(
        request, session, api, uuid, back, "PATCH", "/v1/posts/{id}", json={"content": content}
    )


@router.post("/posts/{uuid}/delete", include_in_schema=False)
async def delete(
    request: Request, uuid: PostUuid, session: CurrentSession, api: CurrentApi, back: Back = ""
) -> Response:
    urn = _urn(uuid)
    await api.send("DELETE", Service.INGESTION, f"/v1/posts/{urn}")
    target = local_path(back, "/")
    if target == post_path(urn):  # the page of the deleted post is gone: home instead
        target = "/"
    return RedirectResponse(target, status_code=303)
