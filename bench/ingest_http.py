"""``ingest.http.posts``: the write API under load, for the ``ingest`` benchmark.

``python -m canopy_ingestion api``, a real uvicorn server in a subprocess, driven by httpx at
a fixed concurrency for a bounded time, each request a different author's post with a mention
and a hashtag: requests/s, ``.p50`` and ``.p99`` latency. The load generator and the server
share the machine's cores.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import httpx

from bench.figures import Figure, JSONScalar, rate
from bench.servers import api_server
from canopy_common.auth import issue_token
from canopy_dev.devstack.probes import free_port
from canopy_ingestion.settings import Settings

EMPLOYEES: Final = 256  # HTTP authors; request i is by employee i
HTTP_CONCURRENCY: Final = 32
HTTP_DURATION_S: Final = 10.0
HTTP_MAX_REQUESTS: Final = 50_000
HTTP_WARMUP_REQUESTS: Final = 2 * HTTP_CONCURRENCY  # first-request costs, not timed
HTTP_TIMEOUT_S: Final = 10.0


@dataclass(slots=True)
class Load:
    """What the load generator saw: latencies of the 201s, and the other answers by kind."""

    latencies_s: list[float]
    errors: dict[str, int]
    elapsed_s: float


async def http_posts(
    settings: Settings, tenant: str, authors: Sequence[str]
) -> tuple[int, list[Figure]]:
    """Serve the API from a subprocess and post at a fixed concurrency: how many posts were
    created (warm-up included), and the figures."""
    tokens = [
        issue_token(settings.auth, tenant=tenant, user=user, roles=["member"]) for user in authors
    ]
    skip_sniffio_lookups()
    port = free_port()
    async with api_server(settings, port):
        base_url = f"http://{settings.host}:{port}"
        warmup = await drive(base_url, authors, tokens, HTTP_WARMUP_REQUESTS, None)
        load = await drive(base_url, authors, tokens, HTTP_MAX_REQUESTS, HTTP_DURATION_S)
    errors = dict(warmup.errors)
    for what, count in load.errors.items():
        errors[what] = errors.get(what, 0) + count
    done = len(load.latencies_s)
    if done < 2:
        raise RuntimeError(f"only {done} posts were created; the other answers: {errors}")
    params: dict[str, JSONScalar] = {
        "concurrency": HTTP_CONCURRENCY,
        "errors": sum(errors.values()),
        **{f"errors_{what}": count for what, count in sorted(errors.items())},
    }
    cuts = statistics.quantiles(load.latencies_s, n=100, method="inclusive")
    figures = [
        rate(
            "ingest.http.posts",
            done,
            load.elapsed_s,
            "requests/s",
            **params,
            pool_max_size=settings.postgres.pool_max_size,
            client="httpx in the bench process, sharing the cores with the server",
            cores=os.cpu_count(),
        ),
        Figure("ingest.http.posts.p50", cuts[49] * 1000, "ms", done, params),
        Figure("ingest.http.posts.p99", cuts[98] * 1000, "ms", done, params),
    ]
    return done + len(warmup.latencies_s), figures


async def drive(
    base_url: str,
    authors: Sequence[str],
    tokens: Sequence[str],
    requests: int,
    duration_s: float | None,
) -> Load:
    """:data:`HTTP_CONCURRENCY` workers posting until ``requests`` have been sent or
    ``duration_s`` (if any) is up; request ``i`` is by author ``i``, mentioning ``i + 1``.

    Each worker has a client of its own with one keep-alive connection: httpcore's pool
    matches waiting requests to connections in time that grows with both, and one shared
    pool of 32 cost more CPU than the server did.
    """
    latencies: list[float] = []
    errors: dict[str, int] = {}
    issued = 0
    start = time.perf_counter()
    deadline = start + duration_s if duration_s is not None else float("inf")

    async def worker() -> None:
        nonlocal issued
        async with httpx.AsyncClient(
            base_url=base_url, limits=httpx.Limits(max_connections=1), timeout=HTTP_TIMEOUT_S
        ) as client:
            while issued < requests and time.perf_counter() < deadline:
                i, issued = issued, issued + 1
                mentioned = authors[(i + 1) % len(authors)]
                body = {
                    "content": f"Notes from sync {i}: thanks @{mentioned} for the review, "
                    "the rollout goes out on Friday. #release"
                }
                headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
                sent = time.perf_counter()
                try:
                    response = await client.post("/v1/posts", json=body, headers=headers)
                except httpx.HTTPError as exc:
                    what = type(exc).__name__
                else:
                    if response.status_code == 201:
                        latencies.append(time.perf_counter() - sent)
                        continue
                    what = str(response.status_code)
                errors[what] = errors.get(what, 0) + 1

    await asyncio.gather(*(worker() for _ in range(HTTP_CONCURRENCY)))
    return Load(latencies, errors, time.perf_counter() - start)


def skip_sniffio_lookups() -> None:
    """Record sniffio as missing, so httpcore stops searching ``sys.path`` for it.

    httpcore imports sniffio whenever it makes a lock or an event (several per request);
    anyio 4 no longer brings it, and a failed import searches again every time: ~0.4 ms a
    call here, a quarter of the load generator's CPU. httpcore then assumes asyncio, which is
    what it concludes without sniffio anyway.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]
