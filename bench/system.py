"""The services a benchmark measures, started as ``make up`` starts them, isolated.

:func:`bench_system` runs :func:`~canopy_testing.system.running_system` (the Procfile
under supervisord, free ports, topics ``e2e.<run>.*``, consumer groups and a database of their own,
all removed afterwards) with only the services a benchmark exercises: on two cores, services
that have nothing to do with the measured path would only take CPU from it. Each benchmark
says which it started in its figures' ``params``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from bench.cpu import CpuMeter, process_cpu_s, server_parts
from bench.harness import REPO_ROOT, BenchContext, run_dir
from canopy_common.events import StrictActivity, encode
from canopy_common.kafka import Producer
from canopy_common.kafka_security import client_security
from canopy_common.settings import KafkaSettings, RedisSettings
from canopy_testing.services import record_key
from canopy_testing.system import RunningSystem, SystemClient, client_limits, running_system

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
    # A folder of its own: LocalSystem keeps its supervisord pid there, and would take a record
    # left by another run for services already up.
    folder = run_dir() / f"system-{uuid.uuid4().hex[:8]}"
    manager = running_system(
        REPO_ROOT,
        folder,
        ctx.postgres.dsn,
        extra_env=extra_env,
        services=list(services),
    )
    running = await asyncio.to_thread(manager.__enter__)
    try:
        limits = client_limits(http_connections)
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
        # The services' log outlives the folder, one per system (a failed benchmark's is not
        # overwritten by the next one's): .run/bench/services-<services>-<id>.log.
        kept = (
            run_dir() / f"services-{'+'.join(services)}-{folder.name.removeprefix('system-')}.log"
        )
        with contextlib.suppress(FileNotFoundError):
            shutil.move(folder / "services.log", kept)
        shutil.rmtree(folder, ignore_errors=True)


def started(system: BenchSystem) -> dict[str, Any]:
    """The ``params`` entry naming what a figure ran against."""
    return {"services": "+".join(system.services)}


async def wait_consumed(
    system: BenchSystem, service: str, topic: str, *, timeout_s: float = 300.0
) -> float:
    """Wait until ``service``'s consumer group has committed every record now on ``topic``
    (set-up traffic applied before a measurement starts); the seconds it took."""
    group = system.running.consumer_groups[service]
    bootstrap = system.kafka.bootstrap_servers
    began = time.monotonic()
    security = client_security(system.kafka)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    await probe.start()
    await admin.start()
    try:
        # The producer waits for the topic's metadata; a consumer of no topic has none.
        partitions = [TopicPartition(topic, p) for p in await system.producer.partitions_for(topic)]
        ends = await probe.end_offsets(partitions)
        while True:
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            behind = sum(
                end - (committed[tp].offset if committed.get(tp) else 0)
                for tp, end in ends.items()
                if end > 0
            )
            if behind <= 0:
                return time.monotonic() - began
            if time.monotonic() - began > timeout_s:
                raise TimeoutError(f"{service} still {behind} records behind on {topic}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
        await probe.stop()


def progress(step: str) -> None:
    """Say on stderr which step a benchmark is at, with the time (the table comes at the end)."""
    print(f"  {time.strftime('%H:%M:%S')} {step}", file=sys.stderr, flush=True)


async def publish_activities(system: BenchSystem, activities: Sequence[StrictActivity]) -> None:
    """Publish canonical activities on the system's activities topic, as ingestion would."""
    topic = system.kafka.topic_activities
    await asyncio.gather(
        *(system.producer.send(topic, encode(a), key=record_key(a)) for a in activities)
    )


def service_cpu_s(system: BenchSystem, package: str | None = None) -> float:
    """CPU seconds so far of the system's service processes (of ``package`` only, e.g.
    ``canopy_analytics``), supervisord left out."""
    return sum(
        process_cpu_s(pid) or 0.0
        for pid, identity in system.running.processes().items()
        if "canopy_" in identity.command and (package is None or package in identity.command)
    )


def cpu_meter(
    system: BenchSystem, ctx: BenchContext, bench_commands: Sequence[str] = ()
) -> CpuMeter:
    """A :class:`~bench.cpu.CpuMeter` of the whole system: each started service's processes
    (``fanout``, ...), Postgres, Redis, the broker, and this process (``bench``);
    ``bench_commands`` are the Redis commands only the benchmark's checks send (see
    :func:`~bench.cpu.server_parts`)."""
    parts = server_parts(
        postgres_dsn=ctx.postgres.dsn,
        redis_url=RedisSettings().url,
        broker=system.kafka.bootstrap_servers,
        bench_commands=bench_commands,
    )
    for service in system.services:
        parts[service] = _service_reader(system, f"canopy_{_PACKAGES.get(service, service)}")
    return CpuMeter(parts)


_PACKAGES = {"notification": "notify"}


def _service_reader(system: BenchSystem, package: str) -> Callable[[], float]:
    return lambda: service_cpu_s(system, package)
