"""``/notifications``: the signed-in person's notifications as notify groups them, marking them
read, muting what they came from, and ``/notifications/settings``: preferences by category and
channel, the email digest and the list of mutes (docs/architecture.md §18).

New notifications arrive on the page over ``/live`` (``static/notifications.js``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from canopy_web.api import Api, ApiError, Service
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import (
    group_path,
    is_htmx,
    local_path,
    person_path,
    post_path,
    render,
    unread_count,
)
from canopy_web.strings import STRINGS, t

router = APIRouter(dependencies=[Depends(csrf_protected)])

PAGE_SIZE = 20
# notify's mute kinds, each with what a notification names it by.
MUTE_KINDS = ("thread", "group", "actor")
CHANNELS = ("in_app", "email", "push")
DIGESTS = ("off", "hourly", "daily", "weekly")
_POST_TYPES = frozenset({"Note", "Article", "Question", "Task", "Event", "Document", "Page"})
_UUID_URN = "urn:uuid:"

Cursor = Annotated[str | None, Query(max_length=200)]
NotificationId = Annotated[str, Form(pattern=r"^\d{1,19}$")]
TargetId = Annotated[str, Form(min_length=1, max_length=512, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
MuteKind = Annotated[str, Form(pattern="^(thread|group|actor)$")]


def link_of(notification: dict[str, Any]) -> str | None:
    """Where a notification leads: the post, the person who followed, the group."""
    obj = notification.get("object") if isinstance(notification.get("object"), dict) else None
    actors = notification.get("actors") or []
    kind = notification.get("type")
    if kind == "follow" and actors:
        return person_path(actors[0])
    if obj and obj.get("type") in _POST_TYPES and str(obj.get("id", "")).startswith(_UUID_URN):
        return post_path(str(obj["id"]))
    if obj and obj.get("type") == "Group" and obj.get("id"):
        return group_path(str(obj["id"]))
    if notification.get("group_id"):
        return group_path(str(notification["group_id"]))
    if notification.get("thread_id"):
        return post_path(str(notification["thread_id"]))
    return None


def mutes_of(notification: dict[str, Any]) -> list[tuple[str, str]]:
    """What a person may silence from this notification: (kind, target id) pairs."""
    found: list[tuple[str, str]] = []
    if notification.get("thread_id"):
        found.append(("thread", str(notification["thread_id"])))
    if notification.get("group_id"):
        found.append(("group", str(notification["group_id"])))
    actors = notification.get("actors") or []
    if len(actors) == 1 and actors[0].get("id"):  # a group of many has no one person to mute
        found.append(("actor", str(actors[0]["id"])))
    return found


def shown(notification: dict[str, Any]) -> dict[str, Any]:
    """A notification with what the page adds: its link and what can be muted from it."""
    return {**notification, "link": link_of(notification), "mutes": mutes_of(notification)}


async def _unread_trigger(api: Api) -> dict[str, str]:
    """The header that tells this page's bell the new count (canopy.js → ``canopy:live``)."""
    count = await unread_count(api)
    return {} if count is None else {"HX-Trigger": f'{{"canopy:unread": {{"count": {count}}}}}'}


@router.get("/notifications", include_in_schema=False)
async def notifications(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    cursor: Cursor = None,
    unread: bool = False,
) -> Response:
    page = await api.page(
        Service.NOTIFY, "/v1/notifications", cursor=cursor, limit=PAGE_SIZE, unread_only=unread
    )
    return await render(
        request,
        "notifications/list.html",
        session=session,
        api=api,
        items=[shown(n) for n in page.items],
        next_cursor=page.next_cursor,
        cursor=cursor,
        unread_only=unread,
    )


@router.get("/notifications/item", include_in_schema=False)
async def notification_item(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    id: Annotated[str, Query(pattern=r"^\d{1,19}$")],
) -> Response:
    """One notification as the list shows it, for a live one to join the open page: the same
    markup, found among the newest (notify has no route for one notification)."""
    page = await api.page(Service.NOTIFY, "/v1/notifications", limit=PAGE_SIZE)
    return await render(
        request,
        "notifications/items.html",
        session=session,
        items=[shown(n) for n in page.items if n.get("id") == id],
    )


@router.post("/notifications/read", include_in_schema=False)
async def mark_read(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    id: Annotated[str | None, Form(pattern=r"^\d{1,19}$")] = None,
    up_to: Annotated[str | None, Form(pattern=r"^\d{1,19}$")] = None,
    back: Annotated[str, Form(max_length=300)] = "/notifications",
) -> Response:
    """One notification read (``id``), or everything up to the newest shown (``up_to``)."""
    if (id is None) == (up_to is None):
        raise ApiError(400, t("error.400"), "id or up_to")
    body = {"ids": [id]} if id is not None else {"up_to": up_to}
    await api.send("POST", Service.NOTIFY, "/v1/notifications/read", json=body)
    if is_htmx(request):
        return Response(status_code=204, headers=await _unread_trigger(api))
    return RedirectResponse(local_path(back), status_code=303)


@router.post("/notifications/mute", include_in_schema=False)
async def mute(
    session: CurrentSession,
    api: CurrentApi,
    kind: MuteKind,
    target_id: TargetId,
) -> Response:
    """Silence what a notification came from; the settings page then shows it, to undo."""
    path = f"/v1/notification-mutes/{kind}/{quote(target_id, safe=':')}"
    await api.send("PUT", Service.NOTIFY, path)
    return RedirectResponse("/notifications/settings?saved=muted#mutes", status_code=303)


@router.post("/notifications/unmute", include_in_schema=False)
async def unmute(
    session: CurrentSession, api: CurrentApi, kind: MuteKind, target_id: TargetId
) -> Response:
    path = f"/v1/notification-mutes/{kind}/{quote(target_id, safe=':')}"
    try:
        await api.send("DELETE", Service.NOTIFY, path)
    except ApiError as exc:
        if exc.status != 404:  # already gone (ended, or unmuted elsewhere): as wanted
            raise
    return RedirectResponse("/notifications/settings?saved=unmuted#mutes", status_code=303)


@router.get("/notifications/settings", include_in_schema=False)
async def settings_page(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    saved: Annotated[str | None, Query(pattern="^(preferences|muted|unmuted)$")] = None,
) -> Response:
    return await _settings(request, session, api, saved=saved)


async def _settings(
    request: Request,
    session: Any,
    api: Api,
    *,
    saved: str | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    prefs = await api.get(Service.NOTIFY, "/v1/notification-preferences")
    mutes = await api.get(Service.NOTIFY, "/v1/notification-mutes")
    return await render(
        request,
        "notifications/settings.html",
        session=session,
        api=api,
        status_code=status_code,
        prefs=prefs,
        category_names={c: category_name(c) for c in prefs.get("categories", {})},
        channels=CHANNELS,
        digests=DIGESTS,
        mutes=[{**m, "link": mute_link(m["kind"], m["id"])} for m in mutes.get("items", [])],
        saved=saved,
        problem=problem,
    )


def category_name(category: str) -> str:
    """A category as people read it (one notify adds later shows by its name until then)."""
    key = f"notifications.category.{category}"
    return t(key) if key in STRINGS else category.replace("_", " ").capitalize()


def mute_link(kind: str, target_id: str) -> str | None:
    """The page of what a mute silences."""
    if kind == "actor":
        return person_path(target_id)
    if kind == "group":
        return group_path(target_id)
    if target_id.startswith(_UUID_URN):
        return post_path(target_id)
    return None


def changes(
    current: dict[str, dict[str, dict[str, Any]]], chosen: set[tuple[str, str]]
) -> dict[str, dict[str, bool]]:
    """The sparse change notify takes: each unlocked setting whose box differs from now."""
    out: dict[str, dict[str, bool]] = {}
    for category, by_channel in current.items():
        for channel, setting in by_channel.items():
            wanted = (category, channel) in chosen
            if not setting.get("locked") and bool(setting.get("enabled")) != wanted:
                out.setdefault(category, {})[channel] = wanted
    return out


@router.post("/notifications/settings", include_in_schema=False)
async def save_settings(request: Request, session: CurrentSession, api: CurrentApi) -> Response:
    form = await request.form()
    chosen = set()
    for name in form:
        category, _, channel = name.partition(".")
        if channel in CHANNELS:
            chosen.add((category, channel))
    digest = form.get("digest")
    current = await api.get(Service.NOTIFY, "/v1/notification-preferences")
    body: dict[str, Any] = {"categories": changes(current["categories"], chosen)}
    if isinstance(digest, str) and digest in DIGESTS and digest != current.get("digest"):
        body["digest"] = digest
    try:
        await api.send("PUT", Service.NOTIFY, "/v1/notification-preferences", json=body)
    except ApiError as exc:
        if exc.status != 422:
            raise
        problem = t("error.from_service", detail=exc.detail)
        return await _settings(request, session, api, problem=problem, status_code=422)
    return RedirectResponse("/notifications/settings?saved=preferences", status_code=303)


# The links in notify's emails (canopy_notify.domain.emails, workers): the preferences page and
# one notification. Signed-out readers go through sign-in and come back here.
@router.get("/settings/notifications", include_in_schema=False)
async def emailed_preferences(session: CurrentSession) -> Response:
    return RedirectResponse("/notifications/settings", status_code=303)


@router.get("/notifications/{notification_id}", include_in_schema=False)
async def emailed_notification(
    session: CurrentSession,
    api: CurrentApi,
    notification_id: Annotated[str, Path(pattern=r"^\d{1,19}$")],
) -> Response:
    """An emailed notification opens what it is about when it is among the newest (notify has
    no route for one notification), else the list."""
    page = await api.page(Service.NOTIFY, "/v1/notifications", limit=PAGE_SIZE)
    for item in page.items:
        if str(item.get("id")) == notification_id:
            link = shown(item).get("link")
            if link:
                return RedirectResponse(str(link), status_code=303)
    return RedirectResponse("/notifications", status_code=303)
