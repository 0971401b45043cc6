"""Every analytics route under a Postgres, a Redis and a broker outage: 503 problem+json with
Retry-After where the route needs what is down, its normal answer where it does not; and how
long the service takes to answer normally again (docs/architecture.md §9)."""

from __future__ import annotations

import asyncpg
import pytest
from analytics_harness import analytics_settings

from canopy_analytics.adapters import projections
from canopy_analytics.app import create_app
from canopy_common.db import Connection
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import in_own_projection, run_outages

pytestmark = pytest.mark.integration


async def test_every_route_answers_503_while_what_it_needs_is_down_and_recovers(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, report_figures: ReportFigures
) -> None:
    settings = analytics_settings(kafka_settings)

    async def ada(conn: Connection, tenant: str) -> None:
        await projections.project(conn, ActivityFactory(tenant).user("ada", user_id="ada"))

    # An analyst and tenant admin, so tenant-wide reports and the search language are tried
    # past their role checks too.
    run = await run_outages(
        settings,
        create_app,
        pg_pool,
        "member",
        "analyst",
        "tenant_admin",
        path_values={"group_id": "g1", "post_id": "p1"},
        bodies={"PUT /v1/search/settings": {"language": "english"}},
        query_values={"metric": "posts", "topic": "python", "q": "quarterly", "text": "quarterly"},
        prepare=in_own_projection(settings, ada),
    )

    report_figures("outage_figures", run.figures("analytics"))
    every = set(run.normal)
    # Distinct active and engaged people are HyperLogLogs in Redis; the rest is Postgres (an
    # unknown group's or post's report is a 404 from Postgres before any count is read).
    distinct_counts = {"GET /v1/analytics/summary"}
    # Experts want a topic or a text, both optional (the walk fills required parameters
    # only): called with neither, it is a 422 before any read, whatever is down.
    unread = {"GET /v1/people/experts"}
    assert run.outages("postgres") == every - unread
    assert run.outages("redis") == distinct_counts
    assert run.unchanged("redis") == every - distinct_counts
    # Only a change of the search language waits for the broker: it is audited first.
    audited = {"PUT /v1/search/settings"}
    assert run.outages("broker") == audited
    assert run.unchanged("broker") == every - audited
    assert max(run.recovery_s.values()) < 5.0
