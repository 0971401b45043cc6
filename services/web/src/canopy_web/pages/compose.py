"""Writing posts: ``POST /posts`` (the compose form of the home and group pages, and the
reply form of a thread) and the completions it offers while typing ``@`` and ``#``.

Without JS a post is a form POST answered 303 back to where it was written; with htmx the new
post comes back as a card the page puts in place. A refusal from ingestion (422: empty,
too long, the content policy) shows next to the form in the service's own words."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from canopy_web.api import Api, ApiError, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.pages.home import home_page
from canopy_web.pages.threads import thread_page
from canopy_web.posting import COMPLETIONS, matching_tags, new_post_body
from canopy_web.rendering import is_htmx, local_path, post_path, render
from canopy_web.sessions import Session
from canopy_web.strings import t

router = APIRouter(dependencies=[Depends(csrf_protected)])

Prefix = Annotated[str, Query(max_length=64)]
# Trending looks back a week for completion: tags people used lately, not only today.
TRENDING_WINDOW_H = 7 * 24


@router.post("/posts", include_in_schema=False)
async def publish(request: Request, session: CurrentSession, api: CurrentApi) -> Response:
    form = await request.form()
    body = new_post_body(form)
    back = local_path(str(form.get("next") or ""), "/")
    htmx = is_htmx(request)
    try:
        post = await api.send("POST", Service.INGESTION, "/v1/posts", json=body)
    except ApiError as exc:
        if exc.status not in (403, 404, 409, 413, 422):
            raise
        return await _refused(request, session, api, exc, form=dict(form), back=back, htmx=htmx)
    if htmx:
        return await render(
            request,
            "feed/new_post.html",
            session=session,
            post=post,
            thread=form.get("thread"),
            back=back,
        )
    anchor = "" if back == "/" or "in_reply_to" not in body else "#p-" + _uuid(post["id"])
    return RedirectResponse(back + anchor, status_code=303)


async def _refused(
    request: Request,
    session: Session,
    api: Api,
    exc: ApiError,
    *,
    form: dict[str, Any],
    back: str,
    htmx: bool,
) -> Response:
    message = t("compose.refused", detail=exc.detail or exc.title)
    if htmx:  # swapped into the form's own error slot (a 2xx, so htmx swaps it)
        return await render(
            request,
            "feed/compose_error.html",
            session=session,
            message=message,
            headers={
                "HX-Retarget": f"#{form.get('form_id') or 'compose'}-error",
                "HX-Reswap": "innerHTML",
            },
        )
    if back == "/" or back.startswith("/?"):
        return await home_page(
            request, session, api, cursor=None, draft=form, error=message, status=exc.status
        )
    # A reply refused without JS: its thread again, the draft kept and the reason beside it.
    target = back.split("#", 1)[0].removeprefix("/posts/")
    return await thread_page(
        request, session, api, target, draft=form, error=message, status=exc.status
    )


def _uuid(post_id: str) -> str:
    return post_path(post_id).removeprefix("/posts/")


@router.get("/compose/people", include_in_schema=False)
async def people(api: CurrentApi, q: Prefix = "") -> JSONResponse:
    """People whose handle or name holds ``q``: what ``@q`` may complete to."""
    if not q:
        return JSONResponse([])
    page = await api.page(Service.INGESTION, "/v1/users", q=q, limit=COMPLETIONS)
    return JSONResponse(
        [
            {"value": p["handle"], "label": p["display_name"], "hint": p.get("title") or ""}
            for p in page.items
        ]
    )


@router.get("/compose/tags", include_in_schema=False)
async def tags(api: CurrentApi, q: Prefix = "") -> JSONResponse:
    """Tags starting with ``q``: first those the person follows, then the tenant's trending
    ones (ingestion has no tag directory to search; guests get no trending, only theirs)."""
    followed = await api.page(Service.INGESTION, "/v1/tag-follows", limit=100)
    try:
        trending = await api.get(
            Service.ANALYTICS,
            "/v1/analytics/trending",
            window_h=TRENDING_WINDOW_H,
            limit=50,
        )
    except ApiError:  # guests: 403
        trending = {"items": []}
    found = matching_tags(
        q,
        (item["tag"] for item in followed.items),
        (item["tag"] for item in trending.get("items", [])),
    )
    return JSONResponse([{"value": tag, "label": "#" + tag, "hint": ""} for tag in found])
