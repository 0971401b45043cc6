"""Every notify route under a Postgres, a Redis and a broker outage: 503 problem+json with
Retry-After where the route needs what is down, its normal answer where it does not; and how
long the service takes to answer normally again (docs/architecture.md §9)."""

from __future__ import annotations

import asyncpg
import pytest
from notify_harness import notify_settings

from canopy_common.activities import as_object
from canopy_common.db import Connection
from canopy_common.settings import KafkaSettings
from canopy_notify.adapters import projections
from canopy_notify.app import create_app
from canopy_testing.factories import ActivityFactory
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import in_own_projection, run_outages

pytestmark = pytest.mark.integration


async def test_every_route_answers_503_while_what_it_needs_is_down_and_recovers(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, report_figures: ReportFigures
) -> None:
    settings = notify_settings(kafka_settings)

    async def ada(conn: Connection, tenant: str) -> None:
        person = as_object(ActivityFactory(tenant).user("ada", user_id="ada").object)
        assert person is not None
        await projections.upsert_person(conn, tenant, person)

    # A tenant admin, so the tenant's defaults are tried past their role check too.
    run = await run_outages(
        settings,
        create_app,
        pg_pool,
        "member",
        "tenant_admin",
        path_values={"kind": "actor", "target_id": "bob"},
        bodies={
            "POST /v1/notifications/read": {"ids": []},
            "PUT /v1/notification-preferences": {"digest": "daily"},
            "PUT /v1/notification-preferences/tenant": {"reminder_leads_s": [3600]},
            "PUT /v1/notification-mutes/{kind}/{target_id}": {},
        },
        prepare=in_own_projection(settings, ada),
    )

    report_figures("outage_figures", run.figures("notify"))
    every = set(run.normal)
    # The unread count is cached in Redis, marking read forgets it, the stream is pub/sub.
    live = {
        "GET /v1/notifications/unread_count",
        "POST /v1/notifications/read",
        "GET /v1/notifications/stream",
    }
    assert run.outages("postgres") == every
    assert run.outages("redis") == live
    assert run.unchanged("redis") == every - live
    assert run.unchanged("broker") == every  # no route waits for the broker
    assert max(run.recovery_s.values()) < 5.0
