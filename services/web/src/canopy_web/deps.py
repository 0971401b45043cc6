"""What every page depends on: the signed-in person's session, the services as that person,
and the CSRF check every mutating request passes (docs/architecture.md §18)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from canopy_web.api import Api, SignInRequired
from canopy_web.metrics import WebMetrics
from canopy_web.oidc import OpenIdClient
from canopy_web.people import People
from canopy_web.sessions import Session, SessionStore
from canopy_web.settings import Settings

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"


@dataclass(frozen=True, slots=True)
class WebState:
    """What the lifespan builds, typed (``request.app.state.web``)."""

    settings: Settings
    sessions: SessionStore
    people: People
    metrics: WebMetrics  # the live stream counts itself open with `metrics.live_stream()`
    # The company's OpenID provider, when people sign in through it.
    oidc: OpenIdClient | None = None

    @property
    def oidc_enabled(self) -> bool:
        """Whether people sign in through the company's OpenID provider."""
        return self.oidc is not None


def web_state(request: Request) -> WebState:
    """The app's collaborators."""
    state: WebState = request.app.state.web
    return state


def session_cookie(settings: Settings) -> str:
    """The cookie's name: ``__Host-`` bound to this origin (RFC 6265bis §4.1.3.2) over https."""
    return "__Host-canopy_session" if settings.secure_cookies else "canopy_session"


class CsrfRefused(Exception):
    """A mutating request without this session's CSRF token, or from another origin."""


async def optional_session(request: Request) -> Session | None:
    """The live session of this browser, None when there is none."""
    state = web_state(request)
    session_id = request.cookies.get(session_cookie(state.settings), "")
    session = await state.sessions.find(session_id)
    if session is not None:
        session = await state.people.fresh(session)
    request.state.session = session
    return session


OptionalSession = Annotated[Session | None, Depends(optional_session)]


async def current_session(session: OptionalSession) -> Session:
    """The signed-in person's session; without one, back to sign-in."""
    if session is None:
        raise SignInRequired
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


def current_api(request: Request, session: CurrentSession) -> Api:
    """The four services as the signed-in person."""
    return web_state(request).people.api(session.token)


CurrentApi = Annotated[Api, Depends(current_api)]


async def csrf_protected(request: Request, session: OptionalSession) -> None:
    """Every POST, PUT, PATCH and DELETE must come from our own pages: the same origin, and
    the session's CSRF token in the ``X-CSRF-Token`` header (htmx) or the ``csrf`` form field.
    The session is the request's one lookup (FastAPI caches ``optional_session``)."""
    if request.method in _SAFE_METHODS:
        return
    state = web_state(request)
    origin = request.headers.get("Origin")
    own = {
        _origin(state.settings.public_url),
        f"{request.url.scheme}://{request.headers.get('host')}",
    }
    if origin is not None and origin not in own:
        raise CsrfRefused
    if session is None:
        raise SignInRequired
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # Starlette keeps it: the route reads the same form
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise CsrfRefused


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
