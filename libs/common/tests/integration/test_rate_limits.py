"""Request budgets per person and per tenant, against the real Redis, through a served app.

The app is a small service of its own (``create_service_app``, so the budgets are wired as in
every Canopy service): a read, a write, a search and the operations routes.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import APIRouter
from prometheus_client import REGISTRY

from canopy_common.auth import CurrentPrincipal
from canopy_common.errors import PROBLEM_JSON
from canopy_common.members import ProjectedPeople
from canopy_common.rate_limits import RouteClass, route_key
from canopy_common.service import Runtime, ServiceDefinition, create_service_app, runtime_only
from canopy_common.settings import KafkaSettings, RateLimitSettings, RedisSettings, ServiceSettings
from canopy_dev.devstack import StackEndpoints
from canopy_dev.devstack.probes import free_port
from canopy_testing.http import bearer, serve

pytestmark = pytest.mark.integration

SERVICE = "ratelimittest"
TOPICS = (
    "topic_upstream",
    "topic_activities",
    "topic_fanout_work",
    "topic_impressions",
    "topic_deliveries",
    "topic_dlq",
    "topic_audit",
)
# RFC 8941 list members as the draft writes them: "name";q=..;w=.. and "name";r=..;t=..
POLICY = re.compile(r'"(?P<name>[a-z-]+)";q=(?P<q>\d+);w=(?P<w>\d+)')
STATE = re.compile(r'"(?P<name>[a-z-]+)";r=(?P<r>\d+);t=(?P<t>\d+)')

router = APIRouter()


@router.get("/v1/things")
async def read_things(principal: CurrentPrincipal) -> dict[str, str]:
    return {"user": principal.user_id}


@router.post("/v1/things", status_code=201)
async def write_thing(principal: CurrentPrincipal) -> dict[str, str]:
    return {"user": principal.user_id}


@router.get("/v1/things/search")
async def search_things(principal: CurrentPrincipal) -> dict[str, str]:
    return {"user": principal.user_id}


STANDING = "SELECT active FROM people WHERE tenant_id = $1 AND user_id = $2"
CALLERS = ("ada", "bob", "cy", "carol")

DEFINITION: ServiceDefinition[ServiceSettings, Runtime[ServiceSettings]] = ServiceDefinition(
    SERVICE,
    "Rate limit test",
    # Its schema needs some migrations to apply: analytics' (by package name, nothing imported).
    "canopy_analytics",
    runtime_only,
    # Who may act: analytics' projection of people, filled by ``served`` for the callers here.
    people=lambda pool: ProjectedPeople(pool, STANDING),
    routers=[router],
    route_classes={route_key("GET", "/v1/things/search"): RouteClass.SEARCH},
)


def settings_for(
    stack: StackEndpoints, kafka: KafkaSettings, limits: RateLimitSettings, **fields: Any
) -> ServiceSettings:
    suffix = uuid.uuid4().hex[:10]
    topics = {topic: f"test.rl.{topic}.{suffix}" for topic in TOPICS}
    return ServiceSettings(
        db_schema=f"rl_{suffix}",
        consumer_group=f"test-rl-{suffix}",
        kafka=kafka.model_copy(update=topics),
        rate_limits=limits,
        **fields,
    )


@asynccontextmanager
async def served(
    settings: ServiceSettings, stack: StackEndpoints, tenant_id: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The test service, with :data:`CALLERS` active people of ``tenant_id`` and of
    ``<tenant_id>-other`` (every route takes an active person)."""
    try:
        async with serve(create_service_app(DEFINITION, settings)) as client:
            conn = await asyncpg.connect(stack.pg_dsn)
            try:
                await conn.executemany(
                    f'INSERT INTO "{settings.db_schema}".people (tenant_id, user_id) '
                    "VALUES ($1, $2)",
                    [(t, u) for t in (tenant_id, f"{tenant_id}-other") for u in CALLERS],
                )
            finally:
                await conn.close()
            yield client
    finally:
        conn = await asyncpg.connect(stack.pg_dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
        finally:
            await conn.close()


async def in_a_fresh_window(window_s: int, needed_s: float = 2.0) -> None:
    """Wait, if need be, so that the next ``needed_s`` seconds fall in one budget window."""
    left = window_s - time.time() % window_s
    if left < needed_s:
        await asyncio.sleep(left + 0.05)


def parsed(response: httpx.Response) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The ``RateLimit-Policy`` and ``RateLimit`` members of an answer, by policy name."""
    policies = {
        m["name"]: {"q": int(m["q"]), "w": int(m["w"])}
        for m in POLICY.finditer(response.headers["RateLimit-Policy"])
    }
    states = {
        m["name"]: {"r": int(m["r"]), "t": int(m["t"])}
        for m in STATE.finditer(response.headers["RateLimit"])
    }
    return policies, states


Limits = Callable[..., RateLimitSettings]


@pytest.fixture
def limits() -> Limits:
    """Budgets small enough to spend in a test; every other one left at its default."""

    def make(**fields: int) -> RateLimitSettings:
        return RateLimitSettings.model_validate({"window_s": 60, **fields})

    return make


async def test_over_the_person_budget_gets_429_problem_json_with_retry_after_and_ratelimit_fields(
    stack: StackEndpoints, kafka_settings: KafkaSettings, tenant_id: str, limits: Limits
) -> None:
    settings = settings_for(stack, kafka_settings, limits(reads_per_person=3))
    headers = bearer(settings.auth, tenant_id, "ada")
    async with served(settings, stack, tenant_id) as client:
        await in_a_fresh_window(60)
        answers = [await client.get("/v1/things", headers=headers) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    policies, states = parsed(answers[0])
    assert policies["reads"] == {"q": 3, "w": 60}
    assert policies["reads-tenant"] == {"q": RateLimitSettings().reads_per_tenant, "w": 60}
    assert [parsed(a)[1]["reads"]["r"] for a in answers[:3]] == [2, 1, 0]
    assert 0 < states["reads"]["t"] <= 60
    refused = answers[3]
    assert refused.headers["content-type"] == PROBLEM_JSON
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert parsed(refused)[1]["reads"] == {"r": 0, "t": retry_after}
    problem = refused.json()
    assert problem["status"] == 429
    assert problem["type"].endswith("/rate-limited")
    assert problem["budget"] == "reads"
    assert problem["limit"] == 3
    assert "budget of 3 reads requests per 60 s is spent" in problem["detail"]


async def test_the_tenant_ceiling_refuses_everyone_in_the_tenant_once_reached(
    stack: StackEndpoints, kafka_settings: KafkaSettings, tenant_id: str, limits: Limits
) -> None:
    settings = settings_for(stack, kafka_settings, limits(writes_per_tenant=4))
    other_tenant = f"{tenant_id}-other"
    async with served(settings, stack, tenant_id) as client:
        await in_a_fresh_window(60)
        spent = [
            await client.post("/v1/things", headers=bearer(settings.auth, tenant_id, user))
            for user in ("ada", "ada", "bob", "cy")
        ]
        carol = await client.post("/v1/things", headers=bearer(settings.auth, tenant_id, "carol"))
        elsewhere = await client.post(
            "/v1/things", headers=bearer(settings.auth, other_tenant, "carol")
        )

    assert [a.status_code for a in spent] == [201, 201, 201, 201]
    assert carol.status_code == 429
    assert carol.json()["budget"] == "writes-tenant"
    assert "your organisation's budget of 4 writes" in carol.json()["detail"]
    assert parsed(carol)[1]["writes-tenant"]["r"] == 0
    assert parsed(carol)[1]["writes"]["r"] == RateLimitSettings().writes_per_person
    assert elsewhere.status_code == 201  # another tenant's budget is its own


async def test_two_people_do_not_share_a_budget(
    stack: StackEndpoints, kafka_settings: KafkaSettings, tenant_id: str, limits: Limits
) -> None:
    settings = settings_for(stack, kafka_settings, limits(search_per_person=2))
    ada, bob = bearer(settings.auth, tenant_id, "ada"), bearer(settings.auth, tenant_id, "bob")
    async with served(settings, stack, tenant_id) as client:
        await in_a_fresh_window(60)
        ada_answers = [await client.get("/v1/things/search", headers=ada) for _ in range(3)]
        bob_answer = await client.get("/v1/things/search", headers=bob)
        ada_reads = await client.get("/v1/things", headers=ada)  # another class, another budget

    assert [a.status_code for a in ada_answers] == [200, 200, 429]
    assert ada_answers[2].json()["budget"] == "search"
    assert bob_answer.status_code == 200
    assert parsed(bob_answer)[1]["search"]["r"] == 1
    assert ada_reads.status_code == 200


async def test_a_spent_budget_is_whole_again_in_the_next_window(
    stack: StackEndpoints, kafka_settings: KafkaSettings, tenant_id: str
) -> None:
    settings = settings_for(
        stack, kafka_settings, RateLimitSettings(window_s=1, reads_per_person=2)
    )
    headers = bearer(settings.auth, tenant_id, "ada")
    async with served(settings, stack, tenant_id) as client:
        await in_a_fresh_window(1, needed_s=0.5)
        spent = [await client.get("/v1/things", headers=headers) for _ in range(3)]
        await asyncio.sleep(int(spent[2].headers["Retry-After"]))
        again = await client.get("/v1/things", headers=headers)

    assert [a.status_code for a in spent] == [200, 200, 429]
    assert again.status_code == 200
    assert parsed(again)[1]["reads"]["r"] == 1


async def test_operations_routes_are_never_limited(
    stack: StackEndpoints, kafka_settings: KafkaSettings, tenant_id: str, limits: Limits
) -> None:
    settings = settings_for(stack, kafka_settings, limits(reads_per_person=1, reads_per_tenant=1))
    headers = bearer(settings.auth, tenant_id, "ada")
    async with served(settings, stack, tenant_id) as client:
        answers = [
            await client.get(path, headers=headers)
            for path in ("/healthz", "/metrics", "/openapi.json") * 3
        ]

    assert {a.status_code for a in answers} == {200}
    assert not any("RateLimit" in a.headers for a in answers)


async def test_with_redis_unreachable_requests_go_through_unchecked_and_are_counted(
    stack: StackEndpoints, kafka_settings: KafkaSettings, tenant_id: str, limits: Limits
) -> None:
    nowhere = RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0")
    settings = settings_for(stack, kafka_settings, limits(writes_per_person=1), redis=nowhere)
    unchecked = f"canopy_{SERVICE}_rate_limit_unchecked_total"
    before = REGISTRY.get_sample_value(unchecked, {"route_class": "writes"}) or 0.0
    headers = bearer(settings.auth, tenant_id, "ada")
    async with served(settings, stack, tenant_id) as client:
        answers = [await client.post("/v1/things", headers=headers) for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert not any("RateLimit" in a.headers for a in answers)
    assert REGISTRY.get_sample_value(unchecked, {"route_class": "writes"}) == before + 3


async def test_with_budgets_disabled_nothing_is_counted(
    stack: StackEndpoints, kafka_settings: KafkaSettings, tenant_id: str
) -> None:
    off = RateLimitSettings(enabled=False, reads_per_person=1)
    settings = settings_for(stack, kafka_settings, off)
    headers = bearer(settings.auth, tenant_id, "ada")
    async with served(settings, stack, tenant_id) as client:
        answers = [await client.get("/v1/things", headers=headers) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not any("RateLimit" in a.headers for a in answers)
