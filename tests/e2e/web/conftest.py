"""The web client in a real browser, over the whole system of tests/e2e (one Chromium for the
folder)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from canopy_testing.browser import chromium
from canopy_testing.system import RunningSystem


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="package")
def web_url(system: RunningSystem) -> str:
    return system.url("web")
