"""Postgres or Redis down: the notification routes answer 503 problem+json with Retry-After,
never a 500 (docs/architecture.md §9). The shared servers stay up: the service's own pool is
closed, or its Redis is a port nothing listens on."""

from __future__ import annotations

import asyncpg
import pytest
from notify_harness import notify_settings

from canopy_common.settings import KafkaSettings
from canopy_notify.app import create_app
from canopy_testing.factories import new_tenant_id
from canopy_testing.outages import (
    api_of,
    assert_dependency_outage,
    bearer,
    close_postgres,
    with_dead_redis,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("path", ["/v1/notifications", "/v1/notification-preferences"])
async def test_list_and_preferences_answer_503_with_retry_after_when_postgres_is_unreachable(
    path: str, kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> None:
    settings = notify_settings(kafka_settings)
    async with api_of(settings, create_app, pg_pool) as (app, client):
        await close_postgres(app)
        response = await client.get(path, headers=bearer(settings, new_tenant_id(), "ada"))
    assert_dependency_outage(response)


async def test_the_unread_count_answers_503_with_retry_after_when_redis_is_unreachable(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> None:
    settings = with_dead_redis(notify_settings(kafka_settings))
    async with api_of(settings, create_app, pg_pool) as (_, client):
        response = await client.get(
            "/v1/notifications/unread_count", headers=bearer(settings, new_tenant_id(), "ada")
        )
    assert_dependency_outage(response)
