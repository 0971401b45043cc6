"""What the analytics routes get from the running service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from canopy_analytics.adapters.active import ActiveSets
from canopy_common.db import Connection
from canopy_common.errors import ServiceUnavailable
from canopy_common.service import runtime_of
from canopy_common.transient import is_transient


@asynccontextmanager
async def available() -> AsyncIterator[None]:
    """Postgres or Redis unreachable inside the block → 503 + Retry-After (§9)."""
    try:
        yield
    except Exception as exc:
        if is_transient(exc):
            raise ServiceUnavailable("analytics storage is unavailable; retry shortly") from exc
        raise


@asynccontextmanager
async def reading(request: Request) -> AsyncIterator[Connection]:
    """A connection in a read-only snapshot, so the figures of one answer agree with each
    other; 503 when storage is unreachable. Count HyperLogLogs outside it: a day's rebuild
    takes a connection of its own, and holding two per request could exhaust the pool."""
    async with (
        available(),
        runtime_of(request).pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        yield conn


def active_sets(request: Request) -> ActiveSets:
    """The HyperLogLogs of active and engaged people (cheap to build per request)."""
    runtime = runtime_of(request)
    return ActiveSets(runtime.redis, runtime.pool)
