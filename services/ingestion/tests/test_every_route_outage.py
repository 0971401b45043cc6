"""Every ingestion route under a Postgres, a Redis and a broker outage: 503 problem+json with
Retry-After where the route needs what is down, its normal answer where it does not; and how
long the service takes to answer normally again (docs/architecture.md §9)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from ingestion_harness import ingestion_settings, route_bodies

from canopy_common.settings import KafkaSettings
from canopy_ingestion.app import create_app
from canopy_testing.http import bearer
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import run_outages

pytestmark = pytest.mark.integration


async def test_every_route_answers_503_while_what_it_needs_is_down_and_recovers(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, report_figures: ReportFigures
) -> None:
    settings = ingestion_settings(kafka_settings)

    async def provision(client: httpx.AsyncClient, tenant: str) -> None:
        """The caller, ada, an active person of the tenant: routes get past who may call."""
        admin = bearer(settings.auth, tenant, "root", "platform_admin", "tenant_admin")
        for path, body in (
            (f"/v1/tenants/{tenant}", {"name": "Outage Corp"}),
            ("/v1/users/ada", {"handle": "ada", "display_name": "Ada"}),
            ("/v1/users/bob", {"handle": "bob", "display_name": "Bob"}),
        ):
            response = await client.put(path, json=body, headers=admin)
            assert response.status_code in (200, 201), response.text

    run = await run_outages(
        settings,
        create_app,
        pg_pool,
        "member",
        "tenant_admin",
        "platform_admin",
        "moderator",
        path_values={
            "tenant_id": "acme-outage",
            "user_id": "bob",
            "group_id": "g1",
            "tag": "news",
            "post_id": "urn:uuid:0190c6a8-0000-7000-8000-000000000001",
            "kind": "like",
            "flag_id": "urn:uuid:0190c6a8-0000-7000-8000-000000000003",
            "thread_id": "urn:uuid:0190c6a8-0000-7000-8000-000000000004",
        },
        query_values={"id": "bob"},
        bodies=route_bodies(answer_id="urn:uuid:0190c6a8-0000-7000-8000-000000000002"),
        prepare=provision,
    )

    report_figures("outage_figures", run.figures("ingestion"))
    every = set(run.normal)
    assert run.outages("postgres") == every
    assert run.unchanged("redis") == every  # ingestion keeps nothing in Redis
    assert run.unchanged("broker") == every  # writes go to the outbox, not to the broker
    assert max(run.recovery_s.values()) < 5.0
