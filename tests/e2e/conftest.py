"""The whole system, started once for every end-to-end test as ``make up`` starts it (supervisord
and the Procfile), on free ports with its own topics, consumer groups and database; stopped after
the last test of this folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from canopy_common.kafka import Producer
from canopy_dev.devstack import StackEndpoints
from canopy_testing.system import RunningSystem, SystemClient, client_limits, running_system

REPO_ROOT = Path(__file__).resolve().parents[2]
# The web's live stream reads the feed head and checks the session every 15 s; tests need
# not wait that long.
SYSTEM_ENV = {"CANOPY_WEB_LIVE_FEED_CHECK_S": "1", "CANOPY_WEB_LIVE_KEEPALIVE_S": "2"}
# Long enough for a live stream between keep-alives (15 s) and a slow first request.
HTTP_TIMEOUT_S = 30.0


@pytest.fixture(scope="package")
def system(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    with running_system(
        REPO_ROOT, tmp_path_factory.mktemp("e2e-run"), stack.pg_dsn, extra_env=SYSTEM_ENV
    ) as running:
        yield running


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def canopy(system: RunningSystem) -> AsyncIterator[SystemClient]:
    async with (
        httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, limits=client_limits()) as http,
        Producer(system.kafka) as producer,
    ):
        yield SystemClient(system, http, producer)
