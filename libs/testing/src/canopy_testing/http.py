"""Driving a service's ASGI app in tests: its lifespan runs, requests go through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from canopy_common.auth import issue_token
from canopy_common.settings import AuthSettings
from canopy_dev.devstack.probes import free_port

__all__ = ["bearer", "free_port", "serve"]


def bearer(auth: AuthSettings, tenant: str, user: str, *roles: str) -> dict[str, str]:
    """An ``Authorization`` header for ``user`` of ``tenant`` (roles default to ``member``),
    signed as the service under test expects."""
    token = issue_token(auth, tenant=tenant, user=user, roles=list(roles) or ["member"])
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app`` (its lifespan builds the clients) and yield an HTTP client for it.

    httpx's ASGI transport rather than Starlette's TestClient: same event loop as the test,
    so the app's consumers and the test's own clients share it.
    """
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://canopy.test") as client,
    ):
        yield client
