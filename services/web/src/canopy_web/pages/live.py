"""``/live``: the one Server-Sent Events stream of a signed-in page (:mod:`canopy_web.live`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import PlainTextResponse, Response
from sse_starlette import EventSourceResponse

from canopy_web.deps import OptionalSession, csrf_protected, web_state
from canopy_web.live import LiveStream, Resume
from canopy_web.strings import t

router = APIRouter(dependencies=[Depends(csrf_protected)])

# Room for "<seq>/<activity id>" (see live.Resume).
_MAX_LAST_EVENT_ID = 600
# sse-starlette's own pings are off: the stream writes its keep-alives with its checks.
_NO_PING_S = 24 * 3_600


@router.get("/live", include_in_schema=False)
async def live(
    request: Request,
    session: OptionalSession,
    last_event_id: Annotated[str | None, Header(max_length=_MAX_LAST_EVENT_ID)] = None,
) -> Response:
    if session is None:
        # Not a redirect to sign-in: an EventSource cannot follow one to a page; a 401 makes
        # it stop retrying, and the page's next navigation goes to sign-in.
        return PlainTextResponse(t("live.signed_out"), status_code=401)
    state = web_state(request)
    stream = LiveStream(
        settings=state.settings,
        people=state.people,
        sessions=state.sessions,
        session=session,
        resume=Resume.parse(last_event_id),
    )

    async def counted() -> AsyncIterator[Any]:
        # aclosing: when the browser goes, the stream (and its upstream to notify) ends now,
        # not whenever the garbage collector finalises it.
        with state.metrics.live_stream():
            async with aclosing(stream.events()) as events:
                async for event in events:
                    yield event

    return EventSourceResponse(
        counted(),
        ping=_NO_PING_S,
        send_timeout=30,
        headers={"X-Accel-Buffering": "no"},  # a buffering proxy would hold events back
    )
