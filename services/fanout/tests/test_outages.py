"""Postgres or Redis down: the feeds answer 503 problem+json with Retry-After, never a 500
(docs/architecture.md §9). The shared servers stay up: the service's own pool is closed, or
its Redis is a port nothing listens on."""

from __future__ import annotations

from typing import Literal

import asyncpg
import pytest
from fanout_harness import fanout_settings

from canopy_common.db import Connection
from canopy_common.settings import KafkaSettings
from canopy_fanout.adapters import graph
from canopy_fanout.app import create_app
from canopy_testing.outages import assert_dependency_outage, read_during_outage

pytestmark = pytest.mark.integration


async def ada(conn: Connection, tenant: str) -> None:
    """The reader, an active person in fanout's projection."""
    await graph.upsert_person(conn, tenant, "ada", "employee")


@pytest.mark.parametrize("down", ["postgres", "redis"])
async def test_a_feed_read_answers_503_with_retry_after_when_a_dependency_is_unreachable(
    down: Literal["postgres", "redis"], kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool
) -> None:
    # Without Redis, compact_timelines off: raising Redis's listpack limit at start needs it.
    settings = fanout_settings(kafka_settings, compact_timelines=down != "redis")
    response = await read_during_outage(
        settings, create_app, pg_pool, "/v1/feeds/home", down=down, provision=ada
    )
    assert_dependency_outage(response)
