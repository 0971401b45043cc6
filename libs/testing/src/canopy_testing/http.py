"""Driving a service's ASGI app in tests: its lifespan runs, requests go through httpx —
in-process (:func:`serve`) or over real HTTP served by uvicorn (:func:`served_over_http`, for
what only a socket shows: streams that stay open, blocking clients in other threads)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from canopy_common.auth import issue_token
from canopy_common.settings import AuthSettings
from canopy_dev.devstack.probes import free_port
from canopy_testing.polling import eventually

__all__ = ["bearer", "free_port", "serve", "served_over_http"]


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


@asynccontextmanager
async def served_over_http(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free local port, in this event loop; yield its base
    URL once ``/healthz`` answers. Requests to it must come from another thread (blocking
    clients) or this loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as client:

            async def up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(up, what=f"{app.title} served on port {port}")
        yield base_url
    finally:
        server.should_exit = True
        await task
