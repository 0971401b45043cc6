"""Every fanout route under a Postgres, a Redis and a broker outage: 503 problem+json with
Retry-After where the route needs what is down, its normal answer where it does not; and how
long the service takes to answer normally again (docs/architecture.md §9)."""

from __future__ import annotations

import asyncpg
import pytest
from fanout_harness import fanout_settings

from canopy_common.db import Connection
from canopy_common.settings import KafkaSettings
from canopy_fanout.adapters import graph
from canopy_fanout.app import create_app
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import in_own_projection, run_outages

pytestmark = pytest.mark.integration


async def test_every_route_answers_503_while_what_it_needs_is_down_and_recovers(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, report_figures: ReportFigures
) -> None:
    # No in-process read cache: every read asks Postgres, so what a read needs is what it uses.
    settings = fanout_settings(kafka_settings, compact_timelines=False, read_cache_s=0)

    async def ada(conn: Connection, tenant: str) -> None:
        await graph.upsert_person(conn, tenant, "ada", "employee")

    run = await run_outages(
        settings,
        create_app,
        pg_pool,
        path_values={"user_id": "bob", "group_id": "g1", "tag": "news"},
        bodies={
            "PUT /v1/markers": {
                "home": {"last_read_id": "urn:uuid:0190c6a8-0000-7000-8000-000000000001"}
            }
        },
        prepare=in_own_projection(settings, ada),
    )

    report_figures("outage_figures", run.figures("fanout"))
    every = set(run.normal)
    markers = {"GET /v1/markers", "PUT /v1/markers"}  # read markers live in Postgres only
    assert run.outages("postgres") == every
    assert run.outages("redis") == every - markers
    assert run.unchanged("redis") == markers
    assert run.unchanged("broker") == every  # no route waits for the broker
    assert max(run.recovery_s.values()) < 5.0
