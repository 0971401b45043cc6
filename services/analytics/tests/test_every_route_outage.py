"""Every analytics route under a Postgres, a Redis and a broker outage: 503 problem+json with
Retry-After where the route needs what is down, its normal answer where it does not; and how
long the service takes to answer normally again (docs/architecture.md §9)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import httpx
import pytest
from analytics_harness import analytics_settings
from fastapi import FastAPI

from canopy_analytics.adapters import projections
from canopy_analytics.app import create_app
from canopy_common.db import close_pool, create_pool
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.route_outages import RouteCall, route_calls, run_outages

pytestmark = pytest.mark.integration


def calls(app: FastAPI) -> list[RouteCall]:
    routes = route_calls(app, path_values={"group_id": "g1", "post_id": "p1"}, bodies={})
    # Required query parameters: a plausible value each.
    query = {
        "GET /v1/analytics/timeseries": "?metric=posts",
        "GET /v1/people/experts": "?topic=python",
    }
    return [RouteCall(c.route, c.method, c.path + query.get(c.route, ""), c.body) for c in routes]


async def test_every_route_answers_503_while_what_it_needs_is_down_and_recovers(
    kafka_settings: KafkaSettings,
    pg_pool: asyncpg.Pool,
    record_property: Callable[[str, object], None],
) -> None:
    # An analyst, so tenant-wide reports are tried past their role check too.
    settings = analytics_settings(kafka_settings)

    async def provision(client: httpx.AsyncClient, tenant: str) -> None:
        """The caller, ada, an active person in analytics' projection: routes get past who
        may act (the API alone runs no stream to apply her Create)."""
        pool = await create_pool(settings.postgres, schema=settings.db_schema)
        try:
            async with pool.acquire() as conn:
                await projections.project(conn, ActivityFactory(tenant).user("ada", user_id="ada"))
        finally:
            await close_pool(pool)

    run = await run_outages(
        settings, create_app, pg_pool, calls, "member", "analyst", prepare=provision
    )

    print(run.figures("analytics"))
    record_property("outage_figures", run.figures("analytics"))
    every = set(run.normal)
    # Distinct active and engaged people are HyperLogLogs in Redis; the rest is Postgres (an
    # unknown group's or post's report is a 404 from Postgres before any count is read).
    distinct_counts = {"GET /v1/analytics/summary"}
    assert run.outages("postgres") == every
    assert run.outages("redis") == distinct_counts
    assert run.unchanged("redis") == every - distinct_counts
    assert run.unchanged("broker") == every  # no route waits for the broker
    assert max(run.recovery_s.values()) < 5.0
