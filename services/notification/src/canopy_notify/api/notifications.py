"""HTTP routes: a person's notifications — the grouped list, the unread count, marking read,
and the live stream (Server-Sent Events through Redis pub/sub, so any API process can hold a
stream; ``Last-Event-ID`` replays what changed while the client was away).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sse_starlette import EventSourceResponse, ServerSentEvent

from canopy_common.auth import CurrentPrincipal
from canopy_common.errors import InvalidInput
from canopy_common.paging import decode_cursor, encode_cursor
from canopy_notify.adapters import notifications
from canopy_notify.adapters.live import key
from canopy_notify.api.deps import Service
from canopy_notify.domain.model import Category
from canopy_notify.handlers import view
from canopy_notify.metrics import notify_metrics

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
MAX_IDS = 500
# Notification ids and change numbers are Postgres bigints: a larger number is no id (and
# would overflow in the query).
MAX_ID = 2**63 - 1
ID_MAX_DIGITS = len(str(MAX_ID))
# The cursors this API hands out are far shorter; a longer one cannot be ours.
CURSOR_MAX_LENGTH = 200
NotificationId = Annotated[str, Field(min_length=1, max_length=ID_MAX_DIGITS)]


def _cursor(row: dict[str, Any]) -> str:
    return encode_cursor(row["updated_at"], row["id"])


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    at, nid = decode_cursor(cursor, (datetime, int))
    return at, nid


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


# No page is larger, whatever CANOPY_NOTIFY_MAX_PAGE_SIZE says (it is capped at this too).
PAGE_SIZE_CEILING = 1000


@router.get("", summary="The caller's notifications, grouped, newest first")
async def list_notifications(
    service: Service,
    principal: CurrentPrincipal,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_LENGTH)] = None,
    limit: Annotated[int | None, Query(ge=1, le=PAGE_SIZE_CEILING)] = None,
    category: Annotated[list[Category] | None, Query(description="Only these categories")] = None,
    unread_only: bool = False,
) -> Page:
    settings = service.settings
    size = limit or settings.default_page_size
    if size > settings.max_page_size:
        raise InvalidInput(f"limit: at most {settings.max_page_size}", extra={"field": "limit"})
    before = _parse_cursor(cursor) if cursor else None
    async with service.runtime.pool.acquire() as conn:
        rows = await notifications.page(
            conn,
            principal.tenant_id,
            principal.user_id,
            limit=size + 1,
            before=before,
            categories=[c.value for c in category or ()],
            unread_only=unread_only,
            actors=settings.group_actors,
        )
    more = len(rows) > size
    rows = rows[:size]
    return Page(items=[view(row) for row in rows], next_cursor=_cursor(rows[-1]) if more else None)


class UnreadCount(BaseModel):
    count: int


@router.get("/unread_count", summary="How many of the caller's notifications are unread")
async def unread_count(service: Service, principal: CurrentPrincipal) -> UnreadCount:
    pool = service.runtime.pool

    async def recompute() -> int:
        async with pool.acquire() as conn:
            return await notifications.unread_count(conn, principal.tenant_id, principal.user_id)

    return UnreadCount(
        count=await service.live.unread(principal.tenant_id, principal.user_id, recompute)
    )


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[NotificationId] | None = Field(default=None, max_length=MAX_IDS)
    up_to: NotificationId | None = Field(default=None, description="Everything up to this one")

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if (self.ids is None) == (self.up_to is None):
            raise ValueError("give either ids or up_to")
        return self


class Marked(BaseModel):
    marked: int


def _ids(values: list[str], field: str) -> list[int]:
    try:
        ids = [int(v) for v in values]
    except ValueError as exc:
        raise InvalidInput(f"{field}: not a notification id", extra={"field": field}) from exc
    if any(not 0 <= i <= MAX_ID for i in ids):
        raise InvalidInput(f"{field}: not a notification id", extra={"field": field})
    return ids


@router.post("/read", summary="Mark notifications read: some ids, or everything up to one")
async def mark_read(service: Service, principal: CurrentPrincipal, body: MarkRead) -> Marked:
    async with service.runtime.pool.acquire() as conn:
        marked = await notifications.mark_read(
            conn,
            principal.tenant_id,
            principal.user_id,
            ids=_ids(body.ids or [], "ids"),
            up_to=_ids([body.up_to], "up_to")[0] if body.up_to is not None else None,
        )
    await service.live.forget_unread(principal.tenant_id, {principal.user_id})
    return Marked(marked=marked)


@router.get(
    "/stream",
    summary="Live notifications (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-Sent Events, for as long as the client listens",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stream(
    service: Service,
    principal: CurrentPrincipal,
    last_event_id: Annotated[str | None, Header(max_length=ID_MAX_DIGITS)] = None,
) -> EventSourceResponse:
    """Each event is a notification as the list shows it (``event: notification``), its id the
    change number: reconnect with ``Last-Event-ID`` to get exactly what changed meanwhile.
    Comments keep idle connections open."""
    settings, runtime, live = service.settings, service.runtime, service.live
    since = _ids([last_event_id], "Last-Event-ID")[0] if last_event_id else None
    tenant, user = principal.tenant_id, principal.user_id
    pubsub = runtime.redis.pubsub()
    try:
        # Subscribed before the replay: nothing falls between.
        await pubsub.subscribe(key("live", tenant, user))
        await live.here(tenant, user)
        # Read before the response starts: once it has, an outage can no longer be a 503.
        async with runtime.pool.acquire() as conn:
            last = (
                since if since is not None else await notifications.latest_seq(conn, tenant, user)
            )
            replay = (
                await notifications.since(
                    conn,
                    tenant,
                    user,
                    since,
                    limit=settings.replay_limit,
                    actors=settings.group_actors,
                )
                if since is not None
                else []
            )
    except BaseException:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        raise

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal last
        metrics = notify_metrics()
        metrics.streams.inc()
        try:
            for row in replay:
                last = max(last, int(row["seq"]))
                yield _event(view(row))
            yield ServerSentEvent(comment="connected")
            while True:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=settings.keepalive_s
                )
                if message is None:
                    await live.here(tenant, user)
                    yield ServerSentEvent(comment="keep-alive")
                    continue
                event = orjson.loads(message["data"])
                if int(event["event_id"]) > last:
                    last = int(event["event_id"])
                    yield _event(event)
        finally:
            metrics.streams.dec()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    return EventSourceResponse(events(), ping=None, send_timeout=30)


def _event(shown: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(
        data=orjson.dumps(shown).decode(), event="notification", id=str(shown["event_id"])
    )
