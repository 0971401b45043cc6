"""Fixtures for the ingestion tests.

One API app (no consumers) serves the whole session; every test has its own tenant
(``tenant_id``), so tests never see each other's data. ``upstream`` adds a worker on the API's
settings (the upstream consumer and the outbox relay) and a producer to feed it. Tests that
need consumers or a relay of their own start their own app with
:func:`ingestion_harness.ingestion_settings`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from ingestion_harness import Api, ingestion_settings

from canopy_common.db import close_pool, create_pool
from canopy_common.kafka import Producer
from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_ingestion.app import create_app
from canopy_testing.http import serve
from canopy_testing.services import serving_ready


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def api(kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool) -> AsyncIterator[Api]:
    settings = ingestion_settings(kafka_settings)
    app = create_app(settings, Mode.API)
    async with serve(app) as client:
        schema_pool = await create_pool(settings.postgres, schema=settings.db_schema)
        try:
            yield Api(client, settings, schema_pool)
        finally:
            await close_pool(schema_pool)
    await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')


@pytest.fixture
def tenant(tenant_id: str) -> str:
    """This test's tenant id."""
    return tenant_id


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def upstream(api: Api) -> AsyncIterator[Producer]:
    """The ingestion worker consuming the API's upstream topic (and relaying its outbox to
    the activities topic), and a producer to feed it."""
    app = create_app(api.settings, Mode.WORKER)
    async with (
        serving_ready(app, what="the upstream consumer to be assigned"),
        Producer(api.settings.kafka) as producer,
    ):
        yield producer


@pytest.fixture
async def hr(api: Api, tenant: str) -> str:
    """A tenant with an HR bot; returns the bot's user id."""
    await api.seed_user(tenant, "hr-bot", kind="bot")
    return "hr-bot"
