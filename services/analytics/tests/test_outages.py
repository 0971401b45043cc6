"""Postgres or Redis down: the analytics routes answer 503 problem+json with Retry-After, never
a 500 (docs/architecture.md §9). The shared servers stay up: the service's own pool is closed,
or its Redis is a port nothing listens on."""

from __future__ import annotations

from typing import Literal

import asyncpg
import pytest
from analytics_harness import analytics_settings

from canopy_analytics.adapters import projections
from canopy_analytics.app import create_app
from canopy_common.db import Connection
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.outages import assert_dependency_outage, read_during_outage

pytestmark = pytest.mark.integration


async def ada(conn: Connection, tenant: str) -> None:
    """The reader, an active person in analytics' projection."""
    await projections.project(conn, ActivityFactory(tenant).user("ada", user_id="ada"))


@pytest.mark.parametrize(
    ("path", "down"),
    [("/v1/analytics/groups/g1", "postgres"), ("/v1/analytics/summary", "redis")],
)
async def test_a_report_answers_503_with_retry_after_when_a_dependency_is_unreachable(
    path: str,
    down: Literal["postgres", "redis"],
    kafka_settings: KafkaSettings,
    pg_pool: asyncpg.Pool,
) -> None:
    settings = analytics_settings(kafka_settings)
    response = await read_during_outage(
        settings, create_app, pg_pool, path, down=down, roles=("analyst",), provision=ada
    )
    assert_dependency_outage(response)
