"""Driving a service's ASGI app in tests: its lifespan runs, requests go through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from canopy_dev.devstack.probes import free_port

__all__ = ["free_port", "serve"]


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
