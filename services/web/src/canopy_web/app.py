"""``create_app(settings)``: the web client's pages, assets and health routes, with a lifespan
that builds the HTTP client, the Redis connection and the session store, and closes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canopy_common.metrics import HttpMetrics, metrics_router
from canopy_web.deps import WebState
from canopy_web.errors import install_error_pages
from canopy_web.metrics import SERVICE, web_metrics
from canopy_web.oidc import OpenIdClient
from canopy_web.pages import (
    admin,
    analytics,
    auth,
    bookmarks,
    compose,
    home,
    moderation,
    oidc,
    service_keys,
    threads,
)
from canopy_web.pages import groups as group_pages
from canopy_web.pages import live as live_page
from canopy_web.pages import notifications as notifications_page
from canopy_web.pages import profiles as profile_pages
from canopy_web.pages import questions as question_pages
from canopy_web.pages import search as search_pages
from canopy_web.people import People
from canopy_web.rendering import build_templates
from canopy_web.sessions import SessionStore
from canopy_web.settings import Settings
from canopy_web.tokens import TokenMinter, load_signing_key

STATIC = Path(__file__).parent / "static"
# The npm packages a page loads, by the path it loads them from (services/web/package.json).
VENDOR_DIRS = {"htmx": "htmx.org/dist"}
# Pages are private to their reader; assets are versioned by the npm lock and may be cached.
_ASSET_CACHE = "public, max-age=3600"


# Scripts and styles only from this origin: injected markup could not run anything.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' "
    "http: https:"
)
_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "content-security-policy": _CSP,
}


class SecurityHeaders:
    """Adds the security and caching headers to every response. Plain ASGI, not Starlette's
    BaseHTTPMiddleware: that one hides the browser's disconnect from a streaming response, and
    every /live stream (with its connection to notify) would outlive its page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asset = str(scope["path"]).startswith(("/static/", "/assets/"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if asset:
                    headers["cache-control"] = _ASSET_CACHE
                else:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings) -> FastAPI:
    """The web client as an ASGI app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        key_file = settings.signing_key_file
        signing_key = load_signing_key(key_file) if key_file is not None else None
        redis = aioredis.Redis.from_url(
            settings.redis.url, max_connections=settings.redis.max_connections
        )
        async with httpx.AsyncClient(timeout=settings.api_timeout_s) as http:
            sessions = SessionStore(
                redis, idle_s=settings.session_idle_s, max_s=settings.session_max_s
            )
            minter = TokenMinter(
                settings.auth,
                ttl_s=settings.token_ttl_s,
                signing_key=signing_key,
                issuer=settings.public_url.rstrip("/") if signing_key else "",
            )
            people = People(
                settings=settings, http=http, minter=minter, sessions=sessions, metrics=metrics
            )
            openid = (
                OpenIdClient(settings, http=http, redis=redis) if settings.oidc_configured else None
            )
            app.state.web = WebState(
                settings=settings, sessions=sessions, people=people, metrics=metrics, oidc=openid
            )
            app.state.redis = redis
            try:
                yield
            finally:
                await redis.aclose()

    app = FastAPI(
        title="Canopy web", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.templates = build_templates()
    install_error_pages(app)
    metrics = web_metrics()

    app.add_middleware(SecurityHeaders)

    # Pages by route template and status, and their latency, like every service (§10).
    app.add_middleware(HttpMetrics, service=SERVICE)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            await app.state.redis.ping()
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "checks": {"redis": repr(exc)}},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        return JSONResponse({"status": "ready", "checks": {"redis": "ok"}})

    app.include_router(metrics_router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name, relative in VENDOR_DIRS.items():
        app.mount(f"/assets/{name}", StaticFiles(directory=_vendor_dir(settings, relative)))
    app.include_router(auth.router)
    app.include_router(oidc.router)
    app.include_router(service_keys.router)
    app.include_router(home.router)
    app.include_router(analytics.router)
    app.include_router(moderation.router)
    app.include_router(admin.router)
    app.include_router(compose.router)
    app.include_router(threads.router)
    app.include_router(bookmarks.router)
    app.include_router(group_pages.router)
    app.include_router(profile_pages.router)
    app.include_router(live_page.router)
    app.include_router(notifications_page.router)
    app.include_router(question_pages.router)
    app.include_router(search_pages.router)
    return app


def _vendor_dir(settings: Settings, relative: str) -> Path:
    """A folder of an npm package installed by ``make setup``; without it no page can work."""
    folder = settings.assets_dir / relative
    if not folder.is_dir():
        raise RuntimeError(f"{folder} is missing: run `make setup` (npm ci in services/web)")
    return folder
