"""The services a benchmark measures, started as ``make up`` starts them, isolated.

:func:`bench_system` runs :func:`~canopy_common.testing.system.running_system` (the Procfile
under honcho, free ports, topics ``e2e.<run>.*``, consumer groups and a database of their own,
all removed afterwards) with only the services a benchmark exercises: on two cores, services
that have nothing to do with the measured path would only take CPU from it. Each benchmark
says which it started in its figures' ``params``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis

from bench.harness import REPO_ROOT, BenchContext, run_dir
from canopy_common.kafka import Producer
from canopy_common.settings import KafkaSettings, RedisSettings
from canopy_common.testing.system import RunningSystem, SystemClient, running_system

HTTP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class BenchSystem:
    """A started system and clients for it: HTTP (:class:`SystemClient`), a producer on its
    topics, and the Redis its services write (the benchmark reads timelines there)."""

    running: RunningSystem
    client: SystemClient
    producer: Producer
    redis: Redis
    services: tuple[str, ...]

    @property
    def kafka(self) -> KafkaSettings:
        return self.running.kafka

    def url(self, service: str, path: str = "") -> str:
        return self.running.url(service, path)


@asynccontextmanager
async def bench_system(
    ctx: BenchContext,
    services: Sequence[str],
    extra_env: Mapping[str, str] | None = None,
    *,
    http_connections: int = 100,
) -> AsyncIterator[BenchSystem]:
    """Start ``services`` isolated, yield them with clients, stop and remove them after."""
    manager = running_system(
        REPO_ROOT,
        run_dir() / "system",
        ctx.postgres.dsn,
        extra_env=extra_env,
        services=list(services),
    )
    running = await asyncio.to_thread(manager.__enter__)
    try:
        limits = httpx.Limits(max_connections=http_connections)
        redis: Redis = Redis.from_url(RedisSettings().url)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, limits=limits) as http:
            producer = Producer(running.kafka)
            await producer.start()
            try:
                yield BenchSystem(
                    running=running,
                    client=SystemClient(running, http, producer),
                    producer=producer,
                    redis=redis,
                    services=tuple(services),
                )
            finally:
                await producer.stop()
                await redis.aclose()
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


def started(system: BenchSystem) -> dict[str, Any]:
    """The ``params`` entry naming what a figure ran against."""
    return {"services": "+".join(system.services)}
