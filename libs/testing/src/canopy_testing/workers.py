"""Worker processes of one service, started by a test: ``python -m canopy_<svc> worker`` on the
test's own settings (schema, topics, consumer group), each with an HTTP port and a Kafka client
id of its own, so that the test can tell them apart in the group's description and kill one::

    async with worker_processes("canopy_fanout", settings, 2, tmp_path) as (first, second):
        held = await held_partitions(settings, (first, second))  # None while rebalancing
        await first.kill()  # SIGKILL: no commit, no leave

Each worker logs to ``<log_dir>/<package>-<n>.log``. Every process started is stopped when the
block ends, even when the test fails: SIGTERM (its consumers commit and leave the group), then
SIGKILL after a while.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic_settings import BaseSettings

from canopy_common.settings import ServiceSettings
from canopy_dev.devstack.processes import (
    log_tail,
    proc_start_ticks,
    process_alive,
    spawn_detached,
    terminate,
)
from canopy_testing.http import free_port
from canopy_testing.kafka import describe_group
from canopy_testing.polling import eventually

# Migrations, topic metadata and the group join, on a busy machine.
READY_TIMEOUT_S = 60.0
# A worker finishes the batch in flight and commits on SIGTERM; then it is killed.
STOP_TIMEOUT_S = 20.0
KILL_TIMEOUT_S = 5.0


def settings_environment(settings: BaseSettings) -> dict[str, str]:
    """The ``CANOPY_*`` variables under which a service process loads ``settings`` again:
    every field that has a value, the nested groups under their own prefixes."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    env: dict[str, str] = {}
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, BaseSettings):
            env |= settings_environment(value)
        elif value is not None:
            alias = info.validation_alias
            env[alias if isinstance(alias, str) else f"{prefix}{name}".upper()] = _text(value)
    return env


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return orjson.dumps(value).decode()  # lists and mappings: pydantic-settings reads JSON


@dataclass(frozen=True)
class WorkerProcess:
    """One started worker: its pid, the port of its ``/readyz`` and ``/metrics``, and the
    prefix of its Kafka client ids (a service names its clients ``<prefix>-<service>``)."""

    pid: int
    start_ticks: int | None
    port: int
    client_id: str
    log_path: Path

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return process_alive(self.pid, self.start_ticks)

    def url(self, path: str = "") -> str:
        """``http://127.0.0.1:<port><path>`` of the worker."""
        return f"http://127.0.0.1:{self.port}{path}"

    async def kill(self) -> None:
        """SIGKILL it and wait until it is gone: nothing is committed and the group is not
        told, so its partitions move only when its session times out."""
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)

        async def gone() -> bool:
            return not self.alive

        await eventually(gone, what=f"worker {self.pid} gone", timeout_s=KILL_TIMEOUT_S)

    async def wait_ready(self, http: httpx.AsyncClient) -> None:
        """Wait until ``/readyz`` answers 200 (its consumers have joined their groups); fail
        at once, with the end of its log, if it exits meanwhile."""

        async def ready() -> bool:
            if not self.alive:
                raise AssertionError(f"worker {self.pid} exited:\n{log_tail(self.log_path)}")
            try:
                return (await http.get(self.url("/readyz"))).status_code == 200
            except httpx.TransportError:  # not listening yet
                return False

        await eventually(
            ready, what=f"worker {self.pid} ready", timeout_s=READY_TIMEOUT_S, interval_s=0.2
        )

    def owns(self, client_id: str) -> bool:
        """Whether a group member with ``client_id`` is one of this worker's clients."""
        return client_id.startswith(f"{self.client_id}-")


@asynccontextmanager
async def worker_processes(
    package: str, settings: ServiceSettings, count: int, log_dir: Path
) -> AsyncIterator[list[WorkerProcess]]:
    """Start ``count`` processes of ``python -m <package> worker`` on ``settings`` (see the
    module doc), wait until each is ready and stop them all after the block."""
    env_prefix = str(settings.model_config.get("env_prefix", ""))
    environment = {**os.environ, **settings_environment(settings)}
    run = uuid.uuid4().hex[:6]
    workers: list[WorkerProcess] = []
    try:
        for n in range(count):
            port = free_port()
            client_id = f"{settings.kafka.client_id}-{run}-{n}"
            env = environment | {
                f"{env_prefix}WORKER_PORT": str(port),
                "CANOPY_KAFKA_CLIENT_ID": client_id,
            }
            log_path = log_dir / f"{package}-{n}.log"
            pid = spawn_detached([sys.executable, "-m", package, "worker"], log_path, env)
            workers.append(WorkerProcess(pid, proc_start_ticks(pid), port, client_id, log_path))
        async with httpx.AsyncClient(timeout=2.0) as http:
            for worker in workers:
                await worker.wait_ready(http)
        yield workers
    finally:
        await asyncio.gather(
            *(asyncio.to_thread(terminate, w.pid, w.start_ticks, STOP_TIMEOUT_S) for w in workers)
        )


async def held_partitions(
    settings: ServiceSettings, workers: Sequence[WorkerProcess], group: str | None = None
) -> list[frozenset[tuple[str, int]]] | None:
    """The (topic, partition) pairs each of ``workers`` holds in ``group`` (default: the
    settings' consumer group), as the broker says; None while the group rebalances."""
    found = await describe_group(settings.kafka, group or settings.consumer_group)
    if found.state != "Stable":
        return None
    return [
        frozenset().union(*(m.partitions for m in found.members if worker.owns(m.client_id)))
        for worker in workers
    ]


async def taken_over(
    settings: ServiceSettings,
    victim: WorkerProcess,
    survivor: WorkerProcess,
    partitions: frozenset[tuple[str, int]],
) -> None:
    """Wait until ``survivor`` holds all of ``partitions`` and ``victim`` none (after a kill:
    once the victim's session has timed out and the group has rebalanced)."""

    async def moved() -> bool:
        held = await held_partitions(settings, (victim, survivor))
        return held == [frozenset(), partitions]

    await eventually(moved, what="the survivor holding every partition", interval_s=0.2)
