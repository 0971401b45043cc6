"""Postgres or Redis down: the analytics routes answer 503 problem+json with Retry-After, never
a 500 (docs/architecture.md §9). The shared servers stay up: the service's own pool is closed,
or its Redis is a port nothing listens on."""

from __future__ import annotations

import asyncpg
import pytest
from analytics_harness import analytics_settings

from canopy_analytics.app import create_app
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import new_tenant_id
from canopy_testing.outages import (
    api_of,
    assert_dependency_outage,
    bearer,
    close_postgres,
    with_dead_redis,
)

pytestmark = pytest.mark.integration


async def test_a_group_report_answers_503_with_retry_after_when_postgres_is_unreachable(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> None:
    settings = analytics_settings(kafka_settings)
    async with api_of(settings, create_app, pg_pool) as (app, client):
        await close_postgres(app)
        response = await client.get(
            "/v1/analytics/groups/g1", headers=bearer(settings, new_tenant_id(), "ada", "analyst")
        )
    assert_dependency_outage(response)


async def test_the_summary_answers_503_with_retry_after_when_redis_is_unreachable(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> None:
    settings = with_dead_redis(analytics_settings(kafka_settings))
    async with api_of(settings, create_app, pg_pool) as (_, client):
        response = await client.get(
            "/v1/analytics/summary", headers=bearer(settings, new_tenant_id(), "ada", "analyst")
        )
    assert_dependency_outage(response)
