"""Every ingestion route under a Postgres, a Redis and a broker outage: 503 problem+json with
Retry-After where the route needs what is down, its normal answer where it does not; and how
long the service takes to answer normally again (docs/architecture.md §9)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from ingestion_harness import ingestion_settings

from canopy_common.settings import KafkaSettings
from canopy_ingestion.app import create_app
from canopy_testing.http import bearer
from canopy_testing.route_outages import RouteCall, route_calls, run_outages

pytestmark = pytest.mark.integration


def calls(app: FastAPI) -> list[RouteCall]:
    return route_calls(
        app,
        path_values={
            "tenant_id": "acme-outage",
            "user_id": "bob",
            "group_id": "g1",
            "tag": "news",
            "post_id": "urn:uuid:0190c6a8-0000-7000-8000-000000000001",
            "kind": "like",
            "flag_id": "urn:uuid:0190c6a8-0000-7000-8000-000000000003",
        },
        bodies={
            "PUT /v1/tenants/{tenant_id}": {"name": "Acme"},
            "PUT /v1/users/{user_id}": {"handle": "bob", "display_name": "Bob"},
            "POST /v1/groups": {"name": "Ops", "visibility": "public"},
            "PUT /v1/groups/{group_id}/members/{user_id}": {},
            "POST /v1/groups/{group_id}/invites": {"user_id": "bob"},
            "POST /v1/posts": {"content": "Hello"},
            "PATCH /v1/posts/{post_id}": {"content": "Hello again"},
            "POST /v1/posts/{post_id}/accept": {
                "answer_id": "urn:uuid:0190c6a8-0000-7000-8000-000000000002"
            },
            "POST /v1/posts/{post_id}/flags": {"reason": "spam"},
            "POST /v1/moderation/flags/{flag_id}/resolve": {"action": "dismiss"},
        },
    )


async def test_every_route_answers_503_while_what_it_needs_is_down_and_recovers(
    kafka_settings: KafkaSettings,
    pg_pool: asyncpg.Pool,
    record_property: Callable[[str, object], None],
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
        calls,
        "member",
        "tenant_admin",
        "platform_admin",
        "moderator",
        prepare=provision,
    )

    print(run.figures("ingestion"))
    record_property("outage_figures", run.figures("ingestion"))
    every = set(run.normal)
    assert run.outages("postgres") == every
    assert run.unchanged("redis") == every  # ingestion keeps nothing in Redis
    assert run.unchanged("broker") == every  # writes go to the outbox, not to the broker
    assert max(run.recovery_s.values()) < 5.0
