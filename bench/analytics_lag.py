"""``analytics``: from ``POST /v1/posts`` accepted to the post counted in analytics, under load.

Ingestion, fanout and analytics run as ``make up`` runs them (:mod:`bench.system`): every post
goes through ingestion's outbox, the activities topic and analytics' stream, beside fanout's
pushes. :data:`AUTHORS` authors post on a fixed schedule at :data:`RATE` posts/s for
:data:`DURATION_S` (the lean client of :mod:`bench.lean_http`, as :mod:`bench.e2e`), while an
analyst reads ``GET /v1/analytics/summary?period=1d`` every :data:`POLL_S`: its ``posts``, the
tenant's posts counted so far (exact).

The *k*-th post accepted counts as counted at the first read that found *k* or more: analytics
applies the partitions side by side, so the *k*-th counted need not be the *k*-th accepted, and
this is the lag of the count behind the posts — ``analytics.counted_p50_ms``, ``_p99_ms`` —
with a read's resolution (:data:`POLL_S`). ``.cpu_us_per_post`` (:mod:`bench.cpu`): the CPU of
the three services, Postgres, Redis and the broker over the run, ÷ the posts.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Final

import orjson

from bench.cpu import cost_figure
from bench.figures import Figure, percentile
from bench.harness import BenchContext, Benchmark
from bench.lean_http import LeanHttpError, LeanPool
from bench.system import BenchSystem, bench_system, cpu_meter, progress, started
from canopy_testing.factories import new_tenant_id

SERVICES: Final = ("ingestion", "fanout", "analytics")
RATE: Final = 200  # posts per second: what e2e's system answers on time on two cores
DURATION_S: Final = 10.0
AUTHORS: Final = 20
ANALYST: Final = "analyst"
POLL_S: Final = 0.05
CONNECTIONS: Final = 100
HTTP_TIMEOUT_S: Final = 30.0
DRAIN_LIMIT_S: Final = 60.0  # after the last post, how long the count may take to catch up


async def run(ctx: BenchContext) -> list[Figure]:
    async with bench_system(ctx, list(SERVICES)) as system:
        tenant = new_tenant_id()
        authors = [f"author{i:02d}" for i in range(AUTHORS)]
        progress(f"analytics lag: {AUTHORS} authors, then {RATE} posts/s for {DURATION_S:.0f} s")
        await system.client.provision(tenant, *authors, ANALYST)
        meter = cpu_meter(system, ctx)
        before = meter.read()
        accepted, counted, failed = await _posting_and_counting(system, tenant, authors)
        spent = meter.since(before)
    lags = sorted((seen - sent) * 1000 for sent, seen in zip(accepted, counted, strict=False))
    params = {
        **started(system),
        "rate": RATE,
        "seconds": DURATION_S,
        "accepted": len(accepted),
        "failed": failed,
        "never_counted": len(accepted) - len(counted),
        "poll_ms": int(POLL_S * 1000),
    }
    if not lags:
        return [Figure("analytics.counted_p50_ms", float("nan"), "ms", 0, params)]
    return [
        Figure("analytics.counted_p50_ms", statistics.median(lags), "ms", len(lags), params),
        Figure("analytics.counted_p99_ms", percentile(lags, 0.99), "ms", len(lags), params),
        *cost_figure("analytics.cpu_us_per_post", spent, len(lags), params, per="post"),
    ]


async def _posting_and_counting(
    system: BenchSystem, tenant: str, authors: list[str]
) -> tuple[list[float], list[float], int]:
    """Post on the schedule while reading the count: when each post was accepted (in order),
    when the count first covered each of them, and how many posts failed."""
    headers = [
        {**system.client.headers(tenant, a), "Content-Type": "application/json"} for a in authors
    ]
    analyst = system.client.headers(tenant, ANALYST, "member", "analyst")
    posts = LeanPool(system.url("ingestion"), CONNECTIONS)
    reads = LeanPool(system.url("analytics"), 1)
    accepted: list[float] = []
    counted: list[float] = []
    failed = 0
    sending = True

    async def send(n: int) -> None:
        nonlocal failed
        body = orjson.dumps({"content": f"Post {n} for the analytics count"})
        try:
            answer = await posts.request(
                "POST", "/v1/posts", body, headers[n % len(authors)], timeout_s=HTTP_TIMEOUT_S
            )
        except (LeanHttpError, TimeoutError):
            failed += 1
            return
        if answer.status == 201:
            accepted.append(time.time())
        else:
            failed += 1

    async def count() -> None:
        path = "/v1/analytics/summary?period=1d"
        deadline = None
        while True:
            answer = await reads.request("GET", path, b"", analyst, timeout_s=HTTP_TIMEOUT_S)
            now = time.time()
            if answer.status != 200:
                raise RuntimeError(f"analytics summary answered {answer.status}: {answer.body!r}")
            posts_counted = int(orjson.loads(answer.body)["posts"])
            while len(counted) < min(posts_counted, len(accepted)):
                counted.append(now)
            if not sending:
                deadline = deadline or now + DRAIN_LIMIT_S
                if len(counted) >= len(accepted) or now > deadline:
                    return
            await asyncio.sleep(POLL_S)

    counter = asyncio.create_task(count())
    began = time.perf_counter()
    sends = []
    for n in range(int(RATE * DURATION_S)):
        delay = began + n / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sends.append(asyncio.create_task(send(n)))
    await asyncio.gather(*sends)
    sending = False
    await counter
    await posts.close()
    await reads.close()
    return accepted, counted, failed


BENCHMARK = Benchmark(
    "analytics",
    f"POST /v1/posts accepted -> counted in analytics' summary, at {RATE} posts/s",
    run,
)
