"""The live stream of one page (``/live``, docs/architecture.md §18): notify's notification
stream relayed with the person's token, the unread count, and word of a newer home feed.

One Server-Sent Events connection per page carries three events: ``notification`` (the
notification as notify shows it), ``unread`` (``{"count": n}``, at the start, after each
notification, and when marks change) and ``feed`` (``{"newest": <activity id>}`` when the home
feed's first item is not the one it was when the stream opened). Between them, every
``live_keepalive_s``: a comment (proxies keep the connection), a check that the session still
stands (the stream ends with it) and, before the token lapses, a new upstream connection with a
fresh token (resumed from the last notification, so nothing falls between).

Marks and the feed head are read by asking: notify tells its stream only of new
notifications, and fanout has no stream of a person's feed (a push would need fanout to publish
"feed changed" per reader, e.g. on a Redis channel keyed by tenant and person after each
fan-out write). Checking one item every ``live_feed_check_s`` costs one cached read.

A dependency that fails ends the stream cleanly; the browser's EventSource reconnects after
``retry`` with ``Last-Event-ID`` = :class:`Resume`, which holds both where notify's stream was
and which feed head the page already knows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
import structlog
from sse_starlette import ServerSentEvent

from canopy_web.api import Api, ApiError, Service, ServiceDown, SignInRequired
from canopy_web.people import People
from canopy_web.sessions import Session, SessionStore
from canopy_web.settings import Settings

log = structlog.get_logger(__name__)

NOTIFY_STREAM = "/v1/notifications/stream"
# How long the browser waits before reconnecting after the stream ended (ms).
RETRY_MS = 5_000
# notify's ids are bigints; a feed head is an activity id (ingestion caps ids at 512).
_MAX_SEQ_DIGITS = 19
_MAX_HEAD = 512
# notify comments every 15 s: twice that in silence means the connection is gone.
_UPSTREAM_IDLE_FACTOR = 2.5
# notify ends a stream only when it stops; one that ends sooner is failing, and reconnecting at
# once would spin: the stream ends and the browser retries after RETRY_MS instead.
_SHORTEST_UPSTREAM_S = 1.0


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a page's stream stands, carried as the SSE id of every event: the last
    notification's change number (notify resumes after it) and the feed head the page knows."""

    seq: int | None = None
    head: str | None = None

    @classmethod
    def parse(cls, last_event_id: str | None) -> Resume:
        """The ``Last-Event-ID`` a reconnecting browser sends; anything else is a fresh start."""
        seq_text, slash, head = (last_event_id or "").strip().partition("/")
        if not slash:
            return cls()
        seq = int(seq_text) if seq_text.isdigit() and len(seq_text) <= _MAX_SEQ_DIGITS else None
        ok_head = head if head and len(head) <= _MAX_HEAD and head.isprintable() else None
        return cls(seq=seq, head=ok_head)

    def event_id(self) -> str:
        """This as an SSE id: ``<seq>/<head>``, either part may be empty (the first ``/`` is
        the separator: a seq is digits; neither holds a newline)."""
        return f"{'' if self.seq is None else self.seq}/{self.head or ''}"


@dataclass(frozen=True, slots=True)
class Head:
    """The first item of a feed: its activity id and when it was published."""

    id: str
    published: datetime | None = None


def feed_head(page: dict[str, Any]) -> Head | None:
    """The first item of a feed page (None for an empty feed)."""
    items = page.get("items") or []
    first = items[0] if items and isinstance(items[0], dict) else None
    if not first or not first.get("id"):
        return None
    try:
        published = datetime.fromisoformat(str(first.get("published")).replace("Z", "+00:00"))
    except ValueError:
        published = None
    return Head(str(first["id"]), published)


def is_newer(head: Head, known: Head | None) -> bool:
    """Whether ``head`` is news to a page that knows ``known``: another item, not older (a
    removed post makes an older item the head; that is no reason to invite a reload)."""
    if known is None:
        return True
    if head.id == known.id:
        return False
    if head.published is None or known.published is None:
        return True
    return head.published >= known.published


def event(kind: str, data: object, resume: Resume) -> ServerSentEvent:
    """One event as the page receives it."""
    return ServerSentEvent(data=orjson.dumps(data).decode(), event=kind, id=resume.event_id())


@dataclass(frozen=True, slots=True)
class _Notification:
    generation: int
    seq: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Closed:
    generation: int
    error: BaseException | None
    lasted_s: float


_Upstream = _Notification | _Closed


class LiveStream:
    """The events of one page's stream, for as long as the session and the services last."""

    def __init__(
        self,
        *,
        settings: Settings,
        people: People,
        sessions: SessionStore,
        session: Session,
        resume: Resume,
    ) -> None:
        self._settings = settings
        self._people = people
        self._sessions = sessions
        self._session = session
        self._resume = resume
        self._queue: asyncio.Queue[_Upstream] = asyncio.Queue()
        self._generation = 0
        self._upstream: asyncio.Task[None] | None = None
        self._token = ""
        self._unread: int | None = None
        self._head: Head | None = None
        # Set once notify's stream first answers (or fails): the page hears of the stream only
        # then, so nothing notify sends after the page saw "unread" can be missed.
        self._ready = asyncio.Event()

    @property
    def _api(self) -> Api:
        return self._people.api(self._session.token)

    async def events(self) -> AsyncGenerator[ServerSentEvent, None]:
        """The stream; it ends (cleanly) when the session ends or a service fails."""
        settings = self._settings
        resumed = self._resume.head is not None
        try:
            if not resumed:
                self._head = await self._feed_head()
                self._resume = replace(self._resume, head=self._head.id if self._head else None)
            else:
                self._head = Head(str(self._resume.head))  # its time unknown: any other is news
            self._connect()
            await self._ready.wait()
            yield ServerSentEvent(id=self._resume.event_id(), retry=RETRY_MS)
            if (unread := await self._unread_changed()) is not None:
                yield unread
            now = time.monotonic()
            next_tick = now + settings.live_keepalive_s
            # Reconnected: the feed may have moved while the page was away.
            next_feed = now if resumed else now + settings.live_feed_check_s
            while True:
                wait_s = max(0.0, min(next_tick, next_feed) - time.monotonic())
                try:
                    item = await asyncio.wait_for(self._queue.get(), timeout=wait_s)
                except TimeoutError:
                    item = None
                if isinstance(item, _Notification):
                    if item.seq > (self._resume.seq or -1):
                        self._resume = replace(self._resume, seq=item.seq)
                        yield event("notification", item.body, self._resume)
                        if (unread := await self._unread_changed()) is not None:
                            yield unread
                    continue
                if isinstance(item, _Closed):
                    if item.generation != self._generation:
                        continue  # an upstream replaced on purpose
                    if item.error is not None:
                        raise item.error
                    if item.lasted_s < _SHORTEST_UPSTREAM_S:  # closing at once: not well
                        raise ServiceDown(Service.NOTIFY, "stream closed at once")
                    await self._renew()  # notify closed its end: resume with a fresh token
                    self._connect()
                    continue
                now = time.monotonic()
                if now >= next_feed:
                    next_feed = now + settings.live_feed_check_s
                    head = await self._feed_head()
                    if head is not None and head.id != self._resume.head:
                        news = is_newer(head, self._head)
                        self._head = head
                        self._resume = replace(self._resume, head=head.id)
                        if news:
                            yield event("feed", {"newest": head.id}, self._resume)
                if now >= next_tick:
                    next_tick = now + settings.live_keepalive_s
                    if not await self._session_stands():
                        return
                    if self._session.token != self._token:
                        self._connect()  # the old connection goes once the new one is open
                    if (unread := await self._unread_changed()) is not None:
                        yield unread  # marked read elsewhere (another page, another device)
                    yield ServerSentEvent(comment="keep-alive")
        except (ServiceDown, SignInRequired, ApiError) as exc:
            # The browser reconnects after RETRY_MS; an ended session then gets a 401 and stops.
            log.info("live stream ended", user=self._session.user_id, reason=repr(exc))
        finally:
            await self._stop(self._upstream)

    async def _session_stands(self) -> bool:
        found = await self._sessions.find(self._session.id)
        if found is None:
            return False
        try:
            self._session = await self._people.fresh(found)
        except SignInRequired:
            return False
        return True

    async def _renew(self) -> None:
        if not await self._session_stands():
            raise SignInRequired

    def _connect(self) -> None:
        """Open notify's stream with the session's token, resumed after the last notification;
        the connection it replaces is closed when this one delivers or fails."""
        self._generation += 1
        self._token = self._session.token
        previous, since = self._upstream, self._resume.seq
        self._upstream = asyncio.create_task(
            self._read(self._generation, self._api, since, previous), name="live-upstream"
        )

    async def _read(
        self, generation: int, api: Api, since: int | None, previous: asyncio.Task[None] | None
    ) -> None:
        error: BaseException | None = None
        idle_s = self._settings.live_keepalive_s * _UPSTREAM_IDLE_FACTOR
        started = time.monotonic()
        try:
            last = None if since is None else str(since)
            async with api.events(
                Service.NOTIFY, NOTIFY_STREAM, last_event_id=last, idle_s=idle_s
            ) as source:
                self._ready.set()
                await self._stop(previous)  # connected: events overlap, never go missing
                previous = None
                async for sse in source.aiter_sse():
                    if sse.event == "notification" and sse.id.isdigit():
                        self._queue.put_nowait(_Notification(generation, int(sse.id), sse.json()))
        except (ServiceDown, SignInRequired, ApiError) as exc:
            error = exc if not isinstance(exc, ApiError) else ServiceDown(Service.NOTIFY, str(exc))
        except ValueError as exc:  # an event that is not JSON
            error = ServiceDown(Service.NOTIFY, repr(exc))
        finally:
            await self._stop(previous)
        self._ready.set()
        self._queue.put_nowait(_Closed(generation, error, time.monotonic() - started))

    @staticmethod
    async def _stop(task: asyncio.Task[None] | None) -> None:
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled ourselves, not just the task we stopped

    async def _unread_changed(self) -> ServerSentEvent | None:
        body = await self._api.get(Service.NOTIFY, "/v1/notifications/unread_count")
        count = int(body["count"])
        if count == self._unread:
            return None
        self._unread = count
        return event("unread", {"count": count}, self._resume)

    async def _feed_head(self) -> Head | None:
        try:
            page = await self._api.get(Service.FANOUT, "/v1/feeds/home", limit=1, seen="false")
        except ApiError:  # no feed to speak of (a guest, say): nothing to announce
            return self._head
        return feed_head(page)
