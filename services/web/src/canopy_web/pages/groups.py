"""``/groups``: the group directory (all, mine, search), suggestions and creating a group;
``/groups/{id}``: a group's page — header, feed, pins, members, joining (or asking to),
invites, join requests and its admins' settings (docs/architecture.md §18).

Every form posts here and comes back with a 303 (works without JavaScript); what people type
(a new group, an invite, settings, a post) shows the service's objection next to the form.
The services decide who may do what: a refused action is their 403 page, a group the reader
may not see their 404 page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_web.api import Api, ApiError, Page, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.pages.calls import not_yet, nothing, optional, segment, together
from canopy_web.rendering import group_path, render
from canopy_web.sessions import Session
from canopy_web.social import group_urn, is_group_admin, join_action

router = APIRouter(dependencies=[Depends(csrf_protected)])

DIRECTORY_PAGE = 20
FEED_PAGE = 20
MEMBERS_SHOWN = 10  # on the group's page; the members page pages through all of them
MEMBERS_PAGE = 50
SUGGESTIONS = 5
Cursor = Annotated[str | None, Query(max_length=512)]
GroupRef = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[^/\s]+$")]
# The notices a redirect may ask a page to show (never text from the query string itself).
NOTICES = frozenset(
    {
        "created",
        "joined",
        "requested",
        "withdrawn",
        "left",
        "invited",
        "approved",
        "declined",
        "pinned",
        "unpinned",
        "saved",
        "archived",
        "unarchived",
        "posted",
    }
)


def _back(group_id: str, notice: str, anchor: str = "") -> RedirectResponse:
    url = f"{group_path(group_id)}?notice={notice}" + (f"#{anchor}" if anchor else "")
    return RedirectResponse(url, status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --- the directory ---------------------------------------------------------------------------


@router.get("/groups", include_in_schema=False)
async def directory(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    q: Annotated[str | None, Query(max_length=100)] = None,
    mine: bool = False,
    cursor: Cursor = None,
) -> Response:
    return await _directory(request, session, api, q=q, mine=mine, cursor=cursor)


async def _directory(
    request: Request,
    session: Session,
    api: Api,
    *,
    q: str | None = None,
    mine: bool = False,
    cursor: str | None = None,
    form: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    q = (q or "").strip() or None
    groups = api.page(
        Service.INGESTION,
        "/v1/groups",
        q=q,
        mine="true" if mine else None,
        cursor=cursor,
        limit=DIRECTORY_PAGE,
    )
    wanted = not (q or mine or cursor)  # suggestions only on the directory's first page
    suggested = (
        optional(api.get(Service.ANALYTICS, "/v1/groups/suggestions", limit=SUGGESTIONS))
        if wanted
        else nothing()
    )
    page, suggestions = await together(groups, suggested)
    return await render(
        request,
        "groups/index.html",
        session=session,
        api=api,
        status_code=status_code,
        page=page,
        q=q or "",
        mine=mine,
        cursor=cursor,
        suggestions=(suggestions or {}).get("items", []),
        form=form or {},
        error=error,
    )


@router.post("/groups", include_in_schema=False)
async def create(request: Request, session: CurrentSession, api: CurrentApi) -> Response:
    form = await _form(request)
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip(),
        "visibility": form.get("visibility", "internal"),
        "join_policy": form.get("join_policy", "open"),
    }
    try:
        group = await api.send("POST", Service.INGESTION, "/v1/groups", json=body)
    except ApiError as exc:
        if exc.status not in (403, 409, 422):
            raise
        return await _directory(
            request, session, api, form=form, error=exc.detail or exc.title, status_code=exc.status
        )
    return _back(group["id"], "created")


# --- a group's page --------------------------------------------------------------------------


@router.get("/groups/{ref}", include_in_schema=False)
async def group_page(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    ref: GroupRef,
    cursor: Cursor = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return await _group_page(request, session, api, ref, cursor=cursor, notice=notice)


async def _group_page(
    request: Request,
    session: Session,
    api: Api,
    ref: str,
    *,
    cursor: str | None = None,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    gid = group_urn(ref)
    path = f"/v1/groups/{segment(gid)}"
    # The group first: one the reader may not see is the API's 404, before anything else.
    group = await api.get(Service.INGESTION, path)
    # Its owners and admins pin and answer join requests; a tenant admin may edit and
    # archive any group they see too (ingestion audits that).
    manage = is_group_admin(group)
    admin = manage or session.has_role("tenant_admin")
    feed, pins, members, requests = await together(
        not_yet(
            api.page(
                Service.FANOUT, f"/v1/feeds/groups/{segment(gid)}", cursor=cursor, limit=FEED_PAGE
            )
        ),
        api.page(Service.INGESTION, f"{path}/pins") if not cursor else _empty(),
        api.page(Service.INGESTION, f"{path}/members", limit=MEMBERS_SHOWN),
        api.page(Service.INGESTION, f"{path}/join-requests") if manage else _empty(),
    )
    pinned_ids = {item["post"]["id"] for item in pins.items}
    return await render(
        request,
        "groups/show.html",
        session=session,
        api=api,
        status_code=status_code,
        group=group,
        feed=feed,
        pins=pins,
        pinned_ids=pinned_ids,
        members=members,
        requests=requests,
        admin=admin,
        manage=manage,
        action=join_action(group),
        cursor=cursor,
        notice=notice if notice in NOTICES else None,
        errors=errors or {},
        form=form or {},
    )


async def _empty() -> Page:
    return Page(items=[], next_cursor=None)


@router.get("/groups/{ref}/members", include_in_schema=False)
async def members_page(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    ref: GroupRef,
    role: Annotated[str | None, Query(pattern="^(owner|admin|member)$")] = None,
    cursor: Cursor = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    gid = group_urn(ref)
    path = f"/v1/groups/{segment(gid)}"
    group, members = await together(
        api.get(Service.INGESTION, path),
        api.page(
            Service.INGESTION, f"{path}/members", role=role, cursor=cursor, limit=MEMBERS_PAGE
        ),
    )
    return await render(
        request,
        "groups/members.html",
        session=session,
        api=api,
        group=group,
        members=members,
        role=role or "",
        cursor=cursor,
        manage=is_group_admin(group),
        notice=notice == "updated",
    )


# --- membership ------------------------------------------------------------------------------


@router.post("/groups/{ref}/join", include_in_schema=False)
async def join(ref: GroupRef, session: CurrentSession, api: CurrentApi) -> Response:
    gid = group_urn(ref)
    me = segment(session.user_id)
    answer = await api.send("PUT", Service.INGESTION, f"/v1/groups/{segment(gid)}/members/{me}")
    asked = isinstance(answer, dict) and answer.get("status") == "pending"
    return _back(gid, "requested" if asked else "joined")


@router.post("/groups/{ref}/leave", include_in_schema=False)
async def leave(ref: GroupRef, session: CurrentSession, api: CurrentApi) -> Response:
    gid = group_urn(ref)
    me = segment(session.user_id)
    await api.send("DELETE", Service.INGESTION, f"/v1/groups/{segment(gid)}/members/{me}")
    return _back(gid, "left")


@router.post("/groups/{ref}/withdraw", include_in_schema=False)
async def withdraw(ref: GroupRef, session: CurrentSession, api: CurrentApi) -> Response:
    gid = group_urn(ref)
    me = segment(session.user_id)
    await api.send("DELETE", Service.INGESTION, f"/v1/groups/{segment(gid)}/join-requests/{me}")
    return _back(gid, "withdrawn")


@router.post("/groups/{ref}/requests", include_in_schema=False)
async def answer_request(
    request: Request, ref: GroupRef, session: CurrentSession, api: CurrentApi
) -> Response:
    """An admin approves (adds the person) or declines a join request."""
    gid = group_urn(ref)
    form = await _form(request)
    who = segment(form.get("user_id", ""))
    if form.get("decision") == "approve":
        await api.send("PUT", Service.INGESTION, f"/v1/groups/{segment(gid)}/members/{who}")
        return _back(gid, "approved", "requests")
    await api.send("DELETE", Service.INGESTION, f"/v1/groups/{segment(gid)}/join-requests/{who}")
    return _back(gid, "declined", "requests")


@router.post("/groups/{ref}/invites", include_in_schema=False)
async def invite(
    request: Request, ref: GroupRef, session: CurrentSession, api: CurrentApi
) -> Response:
    gid = group_urn(ref)
    form = await _form(request)
    body = {"user_id": form.get("user_id", "").strip()}
    try:
        await api.send("POST", Service.INGESTION, f"/v1/groups/{segment(gid)}/invites", json=body)
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        return await _inline(request, session, api, ref, "invite", exc, form)
    return _back(gid, "invited", "invite")


async def _inline(
    request: Request,
    session: Session,
    api: Api,
    ref: str,
    where: str,
    exc: ApiError,
    form: dict[str, str],
) -> Response:
    """The group's page again, with the service's objection next to the form ``where``."""
    return await _group_page(
        request,
        session,
        api,
        ref,
        errors={where: exc.detail or exc.title},
        form=form,
        status_code=exc.status,
    )


@router.post("/groups/{ref}/members", include_in_schema=False)
async def manage_member(
    request: Request, ref: GroupRef, session: CurrentSession, api: CurrentApi
) -> Response:
    """An admin makes a member an admin or a member again, or removes them (the API decides
    who may: only owners touch owners)."""
    gid = group_urn(ref)
    form = await _form(request)
    who = segment(form.get("user_id", ""))
    path = f"/v1/groups/{segment(gid)}/members/{who}"
    change = form.get("change", "")
    if change == "remove":
        await api.send("DELETE", Service.INGESTION, path)
    elif change in ("admin", "member"):
        await api.send("PUT", Service.INGESTION, path, json={"role": change})
    return RedirectResponse(f"{group_path(gid)}/members?notice=updated", status_code=303)


# --- posts and pins --------------------------------------------------------------------------


@router.post("/groups/{ref}/posts", include_in_schema=False)
async def post_into(
    request: Request, ref: GroupRef, session: CurrentSession, api: CurrentApi
) -> Response:
    gid = group_urn(ref)
    form = await _form(request)
    body = {"content": form.get("content", ""), "group_id": gid}
    try:
        await api.send("POST", Service.INGESTION, "/v1/posts", json=body)
    except ApiError as exc:
        if exc.status not in (409, 413, 422):
            raise
        return await _inline(request, session, api, ref, "compose", exc, form)
    return _back(gid, "posted", "feed-heading")


@router.post("/groups/{ref}/pins", include_in_schema=False)
async def pin(
    request: Request, ref: GroupRef, session: CurrentSession, api: CurrentApi
) -> Response:
    gid = group_urn(ref)
    form = await _form(request)
    post = segment(form.get("post_id", ""))
    pinning = form.get("pin") != "off"
    method = "PUT" if pinning else "DELETE"
    await api.send(method, Service.INGESTION, f"/v1/groups/{segment(gid)}/pins/{post}")
    return _back(gid, "pinned" if pinning else "unpinned", "pins-heading")


# --- admin settings --------------------------------------------------------------------------


@router.post("/groups/{ref}/settings", include_in_schema=False)
async def settings(
    request: Request, ref: GroupRef, session: CurrentSession, api: CurrentApi
) -> Response:
    gid = group_urn(ref)
    form = await _form(request)
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip(),
    }
    if form.get("join_policy") in ("open", "request"):
        body["join_policy"] = form["join_policy"]
    try:
        await api.send("PATCH", Service.INGESTION, f"/v1/groups/{segment(gid)}", json=body)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return await _inline(request, session, api, ref, "settings", exc, form)
    return _back(gid, "saved", "settings")


@router.post("/groups/{ref}/archive", include_in_schema=False)
async def archive(
    request: Request, ref: GroupRef, session: CurrentSession, api: CurrentApi
) -> Response:
    gid = group_urn(ref)
    form = await _form(request)
    archiving = form.get("archived") != "off"
    verb = "archive" if archiving else "unarchive"
    await api.send("POST", Service.INGESTION, f"/v1/groups/{segment(gid)}/{verb}")
    return _back(gid, "archived" if archiving else "unarchived")
