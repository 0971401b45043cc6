"""SQL statements counted per HTTP route, against a real Postgres."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from canopy_common.db import close_pool, create_pool
from canopy_common.db_metrics import BACKGROUND, StatementCounter
from canopy_common.metrics import HttpMetrics
from canopy_common.settings import PostgresSettings
from canopy_dev.devstack import StackEndpoints

pytestmark = pytest.mark.integration


def _count(service: str, route: str) -> float:
    value = REGISTRY.get_sample_value(f"canopy_{service}_db_statements_total", {"route": route})
    return value or 0.0


async def test_each_statement_counts_under_the_route_it_ran_for(stack: StackEndpoints) -> None:
    service = f"sc{uuid.uuid4().hex[:8]}"
    counter = StatementCounter(service)
    pool = await create_pool(
        PostgresSettings(dsn=stack.pg_dsn, pool_max_size=2), init=counter.attach
    )
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, int]:
        async with pool.acquire() as conn, conn.transaction():  # BEGIN and COMMIT count too
            one = await conn.fetchval("SELECT $1::int", 1)
            two = await conn.fetchval("SELECT $1::int + 1", one)
        return {"value": two}

    app.add_middleware(HttpMetrics, service=service)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://canopy.test") as client:
            for n in range(3):
                assert (await client.get(f"/v1/things/{n}")).json() == {"value": 2}
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
    finally:
        await close_pool(pool)

    assert _count(service, "/v1/things/{thing_id}") == 3 * 4
    assert _count(service, BACKGROUND) >= 1
