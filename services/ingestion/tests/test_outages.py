"""Postgres down: the ingestion routes answer 503 problem+json with Retry-After, never a 500
(docs/architecture.md §9). The shared servers stay up: the service's own pool is closed, or
its Redis is a port nothing listens on."""

from __future__ import annotations

import asyncpg
import pytest
from ingestion_harness import ingestion_settings

from canopy_common.errors import PROBLEM_JSON
from canopy_common.settings import KafkaSettings
from canopy_ingestion.app import create_app
from canopy_testing.factories import new_tenant_id
from canopy_testing.http import bearer
from canopy_testing.outages import (
    api_of,
    assert_dependency_outage,
    read_during_outage,
    with_dead_redis,
)

pytestmark = pytest.mark.integration


async def test_a_profile_read_answers_503_with_retry_after_when_postgres_is_unreachable(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> None:
    settings = ingestion_settings(kafka_settings)
    response = await read_during_outage(
        settings, create_app, pg_pool, "/v1/users/bob", down="postgres"
    )
    assert_dependency_outage(response)


async def test_redis_unreachable_leaves_the_reads_alone_and_readyz_says_so(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> None:
    # Ingestion keeps nothing in Redis: its reads go on (403: this caller was never
    # provisioned, as with Redis up); /readyz reports Redis down, as 503 with Retry-After.
    settings = with_dead_redis(ingestion_settings(kafka_settings))
    async with api_of(settings, create_app, pg_pool) as (_, client):
        read = await client.get(
            "/v1/users/bob", headers=bearer(settings.auth, new_tenant_id(), "ada")
        )
        ready = await client.get("/readyz")
    assert read.status_code == 403, read.text
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(ready.headers["retry-after"]) > 0
    assert ready.json()["checks"]["redis"] != "ok"
