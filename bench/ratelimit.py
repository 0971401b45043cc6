"""``ratelimit``: what the per-person and per-tenant budgets cost a request, side by side.

- ``ratelimit.check``: :meth:`RateLimiter.check` alone against the real Redis (one Lua script,
  one round trip, both counters), one at a time; beside it ``ratelimit.noop``, an awaited
  call that does nothing, measured the same way.
- ``ratelimit.route.limited`` / ``.unlimited``: one ``GET`` route, authenticated, served
  in-process through httpx's ASGI transport, with and without the budget dependency (and
  the middleware adding the ``RateLimit`` fields); ``ratelimit.route.overhead`` is the
  difference.

Each gives wall µs per operation and this process's CPU µs per operation (Redis's own CPU is
not counted). Every budget is set far above what the run spends; the keys expire with their
window.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Final

import httpx
from fastapi import APIRouter, Depends, FastAPI

from bench.cpu import own_cpu_s
from bench.figures import Figure
from bench.harness import BenchContext, Benchmark
from canopy_common.auth import CurrentPrincipal, install_auth
from canopy_common.principal import Principal, Role
from canopy_common.problems import install_error_handlers
from canopy_common.rate_limits import (
    RateLimiter,
    RateLimitHeaders,
    RouteClass,
    install_rate_limits,
    rate_limit_dependency,
)
from canopy_common.redis import close_redis, create_redis
from canopy_common.settings import AuthSettings, RateLimitSettings, RedisSettings
from canopy_testing.http import bearer

CHECKS: Final = 5_000
REQUESTS: Final = 2_000
WARMUP: Final = 200
ROUNDS: Final = 2  # each side measured twice, interleaved, the better kept
BUDGET: Final = 10_000_000  # never spent by the run


async def run(ctx: BenchContext) -> list[Figure]:
    """The check alone vs a no-op, and one route with and without the budget."""
    redis = create_redis(RedisSettings())
    limits = RateLimitSettings.model_validate(
        {f"{c}_per_{s}": BUDGET for c in RouteClass for s in ("person", "tenant")}
    )
    limiter = RateLimiter(redis, limits, service="bench")
    tenant = f"bench-rl-{uuid.uuid4().hex[:8]}"
    principal = Principal(user_id="ada", tenant_id=tenant, roles=frozenset({Role.MEMBER}))
    try:

        async def check() -> None:
            await limiter.check(principal, RouteClass.READS)

        async def noop() -> None:
            return None

        figures = await _side_by_side("ratelimit", {"check": check, "noop": noop}, CHECKS)
        auth = AuthSettings()
        headers = bearer(auth, tenant, "bob")
        limited, unlimited = _app(limiter, auth, True), _app(limiter, auth, False)
        transport_l = httpx.ASGITransport(app=limited)
        transport_u = httpx.ASGITransport(app=unlimited)
        async with (
            httpx.AsyncClient(transport=transport_l, base_url="http://bench") as client_l,
            httpx.AsyncClient(transport=transport_u, base_url="http://bench") as client_u,
        ):

            async def get_limited() -> None:
                response = await client_l.get("/v1/things", headers=headers)
                if response.status_code != 200 or "RateLimit" not in response.headers:
                    raise AssertionError(f"limited route answered {response.status_code}")

            async def get_unlimited() -> None:
                response = await client_u.get("/v1/things", headers=headers)
                if response.status_code != 200:
                    raise AssertionError(f"unlimited route answered {response.status_code}")

            route = await _side_by_side(
                "ratelimit.route", {"limited": get_limited, "unlimited": get_unlimited}, REQUESTS
            )
    finally:
        await close_redis(redis)
    by_name = {f.name: f for f in route}
    overhead = [
        Figure(
            f"ratelimit.route.overhead.{unit_key}",
            by_name[f"ratelimit.route.limited.{unit_key}"].value
            - by_name[f"ratelimit.route.unlimited.{unit_key}"].value,
            unit,
            REQUESTS,
            {"what": "limited minus unlimited, same route, same run"},
        )
        for unit_key, unit in (("wall_us", "µs/request"), ("cpu_us", "CPU µs/request"))
    ]
    return figures + route + overhead


def _app(limiter: RateLimiter, auth: AuthSettings, limited: bool) -> FastAPI:
    """One authenticated GET route, as create_service_app mounts it, with or without budget."""
    router = APIRouter()

    @router.get("/v1/things")
    async def things(principal: CurrentPrincipal) -> dict[str, str]:
        return {"user": principal.user_id}

    app = FastAPI()
    install_error_handlers(app)
    install_auth(app, auth)
    install_rate_limits(app, limiter)
    if limited:
        app.add_middleware(RateLimitHeaders)
        app.include_router(router, dependencies=[Depends(rate_limit_dependency({}))])
    else:
        app.include_router(router)
    return app


async def _side_by_side(
    prefix: str, operations: dict[str, Callable[[], Awaitable[None]]], n: int
) -> list[Figure]:
    """Wall and CPU µs per call of each operation, rounds interleaved, the best round kept."""
    best: dict[str, tuple[float, float]] = {}
    for operation in operations.values():
        for _ in range(WARMUP):
            await operation()
    for _ in range(ROUNDS):
        for name, operation in operations.items():
            cpu0, wall0 = own_cpu_s(), time.perf_counter()
            for _ in range(n):
                await operation()
            wall, cpu = time.perf_counter() - wall0, own_cpu_s() - cpu0
            wall_us, cpu_us = wall / n * 1e6, cpu / n * 1e6
            previous = best.get(name)
            if previous is None or wall_us < previous[0]:
                best[name] = (wall_us, cpu_us)
    figures = []
    for name, (wall_us, cpu_us) in best.items():
        params = {"rounds": ROUNDS, "sequential": True}
        figures.append(Figure(f"{prefix}.{name}.wall_us", wall_us, "µs/op", n, params))
        figures.append(Figure(f"{prefix}.{name}.cpu_us", cpu_us, "CPU µs/op", n, params))
    return figures


BENCHMARK = Benchmark(
    "ratelimit",
    "rate-limit check vs no-op, and one route with and without the budget: µs and CPU µs",
    run,
)
