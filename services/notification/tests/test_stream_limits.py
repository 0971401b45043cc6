"""Live streams (SSE) are limited by how many a person, and a tenant, hold open at once: over
real HTTP (uvicorn), since a stream stays open."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from notify_harness import Notify

from canopy_common.errors import PROBLEM_JSON
from canopy_common.service import Mode
from canopy_common.settings import RateLimitSettings
from canopy_notify.app import create_app
from canopy_testing.factories import ActivityFactory
from canopy_testing.http import bearer, served_over_http
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

STREAM = "/v1/notifications/stream"


@pytest_asyncio.fixture(loop_scope="session")
async def limited_api(notify: Notify) -> AsyncIterator[httpx.AsyncClient]:
    """An API process of the service allowing one stream per person and two per tenant."""
    limits = RateLimitSettings(streams_per_person=1, streams_per_tenant=2)
    settings = notify.settings.model_copy(update={"rate_limits": limits})
    async with (
        served_over_http(create_app(settings, Mode.API)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        yield client


async def open_stream(
    streams: contextlib.AsyncExitStack, client: httpx.AsyncClient, headers: dict[str, str]
) -> httpx.Response:
    """Open a stream and keep it open until ``streams`` closes (a refusal is read whole)."""
    response = await streams.enter_async_context(client.stream("GET", STREAM, headers=headers))
    if response.status_code != 200:
        await response.aread()
    return response


async def test_a_person_holds_one_stream_and_a_tenant_two_and_a_closed_stream_frees_its_slot(
    notify: Notify, limited_api: httpx.AsyncClient
) -> None:
    tenant = ActivityFactory().tenant_id
    await notify.provision(tenant, "ada", "bob", "cy")  # every route takes active people
    ada, bob, cy = (bearer(notify.settings.auth, tenant, user) for user in ("ada", "bob", "cy"))

    async with contextlib.AsyncExitStack() as streams:
        first = await open_stream(streams, limited_api, ada)
        async with contextlib.AsyncExitStack() as others:
            ada_again = await open_stream(others, limited_api, ada)
            bobs = await open_stream(others, limited_api, bob)
            cys = await open_stream(others, limited_api, cy)

            assert first.status_code == 200
            assert first.headers["RateLimit-Policy"] == (
                '"streams";q=1;qu="concurrent-requests", '
                '"streams-tenant";q=2;qu="concurrent-requests"'
            )
            assert first.headers["RateLimit"] == '"streams";r=0, "streams-tenant";r=1'
            assert ada_again.status_code == 429
            assert ada_again.headers["content-type"] == PROBLEM_JSON
            assert int(ada_again.headers["Retry-After"]) > 0
            assert ada_again.json()["budget"] == "streams"
            assert "your 1 live streams are all open" in ada_again.json()["detail"]
            assert bobs.status_code == 200
            assert cys.status_code == 429
            assert cys.json()["budget"] == "streams-tenant"

    # Every stream is closed now: their slots are given back once the server sees it.
    async def ada_streams_again() -> bool:
        async with limited_api.stream("GET", STREAM, headers=ada) as response:
            return response.status_code == 200

    assert await eventually(ada_streams_again, what="ada's slot given back")
