"""What the analytics routes get from the running service: the collaborators its bootstrap
built. Postgres or Redis unreachable: the service's outage handler answers 503 + Retry-After
(docs/architecture.md §9)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from canopy_analytics.adapters.active import ActiveSets
from canopy_analytics.bootstrap import Collaborators
from canopy_common.db import Connection
from canopy_common.service import collaborators_of


@asynccontextmanager
async def reading(request: Request) -> AsyncIterator[Connection]:
    """A connection in a read-only snapshot, so the figures of one answer agree with each
    other. Count HyperLogLogs outside it: a day's rebuild takes a connection of its own, and
    holding two per request could exhaust the pool."""
    pool = collaborators_of(request, Collaborators).runtime.pool
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn


@asynccontextmanager
async def writing(request: Request) -> AsyncIterator[Connection]:
    """A connection in a transaction that commits when the block ends without an error."""
    pool = collaborators_of(request, Collaborators).runtime.pool
    async with pool.acquire() as conn, conn.transaction():
        yield conn


async def active_sets(request: Request) -> ActiveSets:
    """The HyperLogLogs of active and engaged people."""
    return collaborators_of(request, Collaborators).active
