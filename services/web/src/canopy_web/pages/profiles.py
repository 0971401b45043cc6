"""``/people``: the directory (text and skill), who knows about a topic (analytics' experts)
and people you may know; ``/people/{id}``: a profile — org chart, skills, expertise, followers,
following, the follow button and their posts — and "Edit my profile" on one's own
(docs/architecture.md §18).

The directory and profiles are ingestion's; experts and suggestions analytics' (the page shows
without them when analytics does not answer); posts are fanout's user feed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_web.api import Api, ApiError, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.pages.calls import not_yet, nothing, optional, segment, together
from canopy_web.rendering import local_path, person_path, render
from canopy_web.social import count_label, expertise_of, own_profile_patch

router = APIRouter(dependencies=[Depends(csrf_protected)])

DIRECTORY_PAGE = 20
FEED_PAGE = 10  # a profile shows their latest posts; the rest is a page away
CONNECTIONS_PAGE = 50
# One page of followers counts them: the API gives no total (shown as "100+" past it).
COUNTED = 100
SUGGESTIONS = 6
EXPERTS = 10
# Expertise on a profile: their standing among the experts of (at most) this many of their
# skills, one analytics call each.
EXPERTISE_TOPICS = 5
EXPERTS_SEARCHED = 50
Cursor = Annotated[str | None, Query(max_length=512)]
PersonRef = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[^/\s]+$")]
ME = "me"


# --- the directory ---------------------------------------------------------------------------


@router.get("/people", include_in_schema=False)
async def directory(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    q: Annotated[str | None, Query(max_length=200)] = None,
    skill: Annotated[str | None, Query(max_length=64)] = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Cursor = None,
) -> Response:
    q, skill, topic = ((v or "").strip() or None for v in (q, skill, topic))
    first = not (q or skill or cursor)
    people, experts, suggestions = await together(
        api.page(
            Service.INGESTION, "/v1/users", q=q, skill=skill, cursor=cursor, limit=DIRECTORY_PAGE
        ),
        optional(_experts(api, topic)) if topic else nothing(),
        optional(api.get(Service.ANALYTICS, "/v1/people/suggestions", limit=SUGGESTIONS))
        if first and not topic
        else nothing(),
    )
    return await render(
        request,
        "people/index.html",
        session=session,
        api=api,
        people=people,
        q=q or "",
        skill=skill or "",
        topic=topic or "",
        cursor=cursor,
        experts=experts,
        suggestions=(suggestions or {}).get("items", []),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


async def _experts(api: Api, topic: str) -> dict[str, Any]:
    """Who knows about ``topic``; the service's objection (a topic of no letters) shown as
    the answer's ``problem``."""
    try:
        answer: dict[str, Any] = await api.get(
            Service.ANALYTICS, "/v1/people/experts", topic=topic, limit=EXPERTS
        )
    except ApiError as exc:
        if exc.status != 422:
            raise
        return {"items": [], "problem": exc.detail or exc.title}
    return answer


# --- following -------------------------------------------------------------------------------


@router.post("/people/{ref}/follow", include_in_schema=False)
async def follow(
    request: Request, ref: PersonRef, session: CurrentSession, api: CurrentApi
) -> Response:
    """Follow (``follow=on``) or unfollow (``follow=off``), then back where the form was."""
    form = await request.form()
    following = form.get("follow") != "off"
    method = "PUT" if following else "DELETE"
    await api.send(method, Service.INGESTION, f"/v1/follows/{segment(ref)}")
    back = form.get("next")
    target = local_path(back if isinstance(back, str) else None)
    if target == "/":
        target = person_path(ref)
    return RedirectResponse(target, status_code=303)


# --- one's own profile -----------------------------------------------------------------------


@router.get("/people/me", include_in_schema=False)
async def me(session: CurrentSession) -> Response:
    return RedirectResponse(person_path(session.user_id), status_code=303)


@router.get("/people/me/edit", include_in_schema=False)
async def edit_form(request: Request, session: CurrentSession, api: CurrentApi) -> Response:
    person = await api.get(Service.INGESTION, "/v1/users/me")
    return await render(
        request, "people/edit.html", session=session, api=api, person=person, form={}, error=""
    )


@router.post("/people/me/edit", include_in_schema=False)
async def edit(request: Request, session: CurrentSession, api: CurrentApi) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    person = await api.get(Service.INGESTION, "/v1/users/me")
    patch = own_profile_patch(form, person)
    if patch:
        try:
            await api.send("PATCH", Service.INGESTION, "/v1/users/me", json=patch)
        except ApiError as exc:
            if exc.status != 422:
                raise
            return await render(
                request,
                "people/edit.html",
                session=session,
                api=api,
                status_code=422,
                person=person,
                form=form,
                error=exc.detail or exc.title,
            )
    return RedirectResponse(person_path(session.user_id) + "?saved=1", status_code=303)


# --- a profile -------------------------------------------------------------------------------


@router.get("/people/{ref}", include_in_schema=False)
async def profile(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    ref: PersonRef,
    cursor: Cursor = None,
    saved: bool = False,
) -> Response:
    if ref == ME:
        return RedirectResponse(person_path(session.user_id), status_code=303)
    who = segment(ref)
    person = await api.get(Service.INGESTION, f"/v1/users/{who}")
    mine = person["id"] == session.user_id
    followers, following, posts, relation = await together(
        api.page(Service.INGESTION, f"/v1/users/{who}/followers", limit=COUNTED),
        api.page(Service.INGESTION, f"/v1/users/{who}/following", limit=COUNTED),
        not_yet(api.page(Service.FANOUT, f"/v1/feeds/users/{who}", cursor=cursor, limit=FEED_PAGE)),
        _relationship(api, person["id"]) if not mine else nothing(),
    )
    expertise = await _expertise(api, person) if not cursor else []
    return await render(
        request,
        "people/show.html",
        session=session,
        api=api,
        person=person,
        mine=mine,
        relation=relation or {},
        followers=followers,
        following=following,
        followers_count=count_label(len(followers.items), followers.next_cursor is not None),
        following_count=count_label(len(following.items), following.next_cursor is not None),
        posts=posts,
        cursor=cursor,
        expertise=expertise,
        saved=saved and mine,
    )


async def _relationship(api: Api, person_id: str) -> dict[str, Any]:
    found = await api.get(Service.INGESTION, "/v1/relationships", id=person_id)
    return next((r for r in found if r.get("id") == person_id), {})


async def _expertise(api: Api, person: dict[str, Any]) -> list[dict[str, Any]]:
    """Their standing among the experts of each of their first skills (analytics has no
    per-person view of expertise: docs/architecture.md §18)."""
    topics = list(person.get("skills") or [])[:EXPERTISE_TOPICS]
    if not topics:
        return []
    answers = await together(
        *(
            optional(
                api.get(
                    Service.ANALYTICS, "/v1/people/experts", topic=topic, limit=EXPERTS_SEARCHED
                )
            )
            for topic in topics
        )
    )
    found = (
        expertise_of(person["id"], topic, answer)
        for topic, answer in zip(topics, answers, strict=True)
        if answer
    )
    return [entry for entry in found if entry and entry.get("score", 0) > 0]


@router.get("/people/{ref}/{direction}", include_in_schema=False)
async def connections(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    ref: PersonRef,
    direction: Literal["followers", "following"],
    cursor: Cursor = None,
) -> Response:
    who = segment(ref)
    person, page = await together(
        api.get(Service.INGESTION, f"/v1/users/{who}"),
        api.page(
            Service.INGESTION, f"/v1/users/{who}/{direction}", cursor=cursor, limit=CONNECTIONS_PAGE
        ),
    )
    return await render(
        request,
        "people/connections.html",
        session=session,
        api=api,
        person=person,
        direction=direction,
        page=page,
        cursor=cursor,
    )
