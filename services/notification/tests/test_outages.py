"""Postgres or Redis down: the notification routes answer 503 problem+json with Retry-After,
never a 500 (docs/architecture.md §9). The shared servers stay up: the service's own pool is
closed, or its Redis is a port nothing listens on."""

from __future__ import annotations

from typing import Literal

import asyncpg
import pytest
from notify_harness import notify_settings

from canopy_common.activities import as_object
from canopy_common.db import Connection
from canopy_common.settings import KafkaSettings
from canopy_notify.adapters import projections
from canopy_notify.app import create_app
from canopy_testing.factories import ActivityFactory
from canopy_testing.outages import assert_dependency_outage, read_during_outage

pytestmark = pytest.mark.integration


async def ada(conn: Connection, tenant: str) -> None:
    """The reader, an active person in notify's projection."""
    person = as_object(ActivityFactory(tenant).user("ada", user_id="ada").object)
    assert person is not None
    await projections.upsert_person(conn, tenant, person)


@pytest.mark.parametrize(
    ("path", "down"),
    [
        ("/v1/notifications", "postgres"),
        ("/v1/notification-preferences", "postgres"),
        ("/v1/notifications/unread_count", "redis"),
    ],
)
async def test_notification_reads_answer_503_with_retry_after_when_a_dependency_is_unreachable(
    path: str,
    down: Literal["postgres", "redis"],
    kafka_settings: KafkaSettings,
    pg_pool: asyncpg.Pool,
) -> None:
    settings = notify_settings(kafka_settings)
    response = await read_during_outage(
        settings, create_app, pg_pool, path, down=down, provision=ada
    )
    assert_dependency_outage(response)
