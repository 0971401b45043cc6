"""A dependency outage in one service's app, without touching the shared servers: the app's
Redis pointed at a port nothing listens on, or its Postgres pool closed under it; and what every
service must answer then (503 problem+json with ``Retry-After``, docs/architecture.md §9)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal, TypeVar

import asyncpg
import httpx
from fastapi import FastAPI

from canopy_common.db import Connection
from canopy_common.errors import PROBLEM_JSON
from canopy_common.service import Mode
from canopy_common.settings import RedisSettings, ServiceSettings
from canopy_dev.devstack.probes import free_port
from canopy_testing.factories import new_tenant_id
from canopy_testing.http import bearer, serve

_Settings = TypeVar("_Settings", bound=ServiceSettings)


def with_dead_redis(settings: _Settings) -> _Settings:
    """``settings`` with Redis at a local port nothing listens on."""
    return settings.model_copy(
        update={"redis": RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0")}
    )


@asynccontextmanager
async def api_of(
    settings: _Settings, create_app: Callable[[_Settings, Mode], FastAPI], pg_pool: asyncpg.Pool
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service's HTTP API (no consumers or workers) on its own schema, dropped after."""
    app = create_app(settings, Mode.API)
    try:
        async with serve(app) as client:
            yield app, client
    finally:
        await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')


async def close_postgres(app: FastAPI) -> None:
    """Close the running app's Postgres pool: every query from now on finds no database."""
    pool: asyncpg.Pool = app.state.runtime.pool
    await pool.close()


def assert_dependency_outage(response: httpx.Response) -> None:
    """A 503 problem+json (RFC 9457) with ``Retry-After``: come back, nothing is wrong with
    the request."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(response.headers["retry-after"]) > 0
    problem = response.json()
    assert problem["status"] == 503
    assert problem["type"].endswith("/dependency-unavailable")
    assert problem["instance"] == response.request.url.path


async def read_during_outage(
    settings: _Settings,
    create_app: Callable[[_Settings, Mode], FastAPI],
    pg_pool: asyncpg.Pool,
    path: str,
    *,
    down: Literal["postgres", "redis"],
    roles: tuple[str, ...] = (),
    provision: Callable[[Connection, str], Awaitable[object]] | None = None,
) -> httpx.Response:
    """``GET path`` as ada, a person of a new tenant, while the service's Postgres (its pool
    closed under the running app) or Redis (a port nothing listens on) is unreachable.
    ``provision(conn, tenant)`` first writes ada into the service's projection of people, so
    the read gets past who may act (docs/architecture.md §8; the API runs no consumer)."""
    if down == "redis":
        settings = with_dead_redis(settings)
    tenant = new_tenant_id()
    async with api_of(settings, create_app, pg_pool) as (app, client):
        if provision is not None:
            async with app.state.runtime.pool.acquire() as conn:
                await provision(conn, tenant)
        if down == "postgres":
            await close_postgres(app)
        return await client.get(path, headers=bearer(settings.auth, tenant, "ada", *roles))
