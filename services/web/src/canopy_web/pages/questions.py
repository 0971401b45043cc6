"""``/questions``: the questions the person may see, by where they stand (ingestion's
``GET /v1/questions``), and asking one — with the questions already asked that are similar in
meaning shown while the person types (analytics' ``GET /v1/questions/similar``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_web.api import Api, ApiError, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import post_path, render
from canopy_web.sessions import Session

router = APIRouter(dependencies=[Depends(csrf_protected)])

QUESTIONS_PAGE = 20
SIMILAR_SHOWN = 5  # what fits under a text box
# analytics' MAX_TEXT_LENGTH: a longer text is refused there, so none is asked for.
SIMILAR_MAX_CHARS = 2_000
GROUPS_OFFERED = 100  # the groups offered to ask in: the person's own, a page of them
Cursor = Annotated[str | None, Query(max_length=512)]


class Tab(StrEnum):
    """The lists of questions, unanswered first: what most needs an answer."""

    UNANSWERED = "unanswered"
    ANSWERED = "answered"
    ACCEPTED = "accepted"
    ALL = "all"
    MINE = "mine"


def _filters(tab: Tab, session: Session) -> dict[str, str]:
    if tab is Tab.MINE:
        return {"author": session.user_id}
    if tab is Tab.ALL:
        return {}
    return {"status": tab.value}


async def _my_groups(api: Api) -> list[dict[str, Any]]:
    page = await api.page(Service.INGESTION, "/v1/groups", mine="true", limit=GROUPS_OFFERED)
    return [g for g in page.items if not g.get("archived")]


async def _page(
    request: Request,
    session: Session,
    api: Api,
    *,
    tab: Tab,
    cursor: str | None,
    form: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    page = await api.page(
        Service.INGESTION,
        "/v1/questions",
        cursor=cursor,
        limit=QUESTIONS_PAGE,
        **_filters(tab, session),
    )
    return await render(
        request,
        "questions/list.html",
        session=session,
        api=api,
        status_code=status_code,
        page=page,
        tab=tab,
        tabs=list(Tab),
        cursor=cursor,
        groups=await _my_groups(api),
        form=form or {},
        error=error,
        max_chars=SIMILAR_MAX_CHARS,
    )


@router.get("/questions", include_in_schema=False)
async def questions(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    tab: Tab = Tab.UNANSWERED,
    cursor: Cursor = None,
) -> Response:
    return await _page(request, session, api, tab=tab, cursor=cursor)


@router.post("/questions", include_in_schema=False)
async def ask(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    content: Annotated[str, Form(max_length=20_000)] = "",
    name: Annotated[str, Form(max_length=1_000)] = "",
    group_id: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Publish the question and go to its thread; a refusal shows next to the form, with
    what was typed kept."""
    body: dict[str, Any] = {"content": content, "kind": "question"}
    if name.strip():
        body["name"] = name.strip()
    if group_id:
        body["group_id"] = group_id
    try:
        created = await api.send("POST", Service.INGESTION, "/v1/posts", json=body)
    except ApiError as refused:
        if refused.status not in (403, 404, 409, 422):
            raise
        form = {"content": content, "name": name, "group_id": group_id}
        return await _page(
            request,
            session,
            api,
            tab=Tab.UNANSWERED,
            cursor=None,
            form=form,
            error=refused.detail or refused.title,
            status_code=refused.status,
        )
    return RedirectResponse(post_path(created["id"]), status_code=303)


@router.get("/questions/similar", include_in_schema=False)
async def similar(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    content: Annotated[str, Query(max_length=20_000)] = "",
    name: Annotated[str, Query(max_length=1_000)] = "",
) -> Response:
    """The fragment under the question's text box: nothing for a blank or too long text."""
    text = " ".join(f"{name} {content}".split())
    items: list[dict[str, Any]] = []
    if text and len(text) <= SIMILAR_MAX_CHARS:
        try:
            found = await api.get(
                Service.ANALYTICS, "/v1/questions/similar", text=text, limit=SIMILAR_SHOWN
            )
        except ApiError:  # a text analytics will not compare is no error to the person typing
            found = {"items": []}
        items = list(found.get("items", []))
    return await render(request, "questions/similar.html", session=session, items=items)
