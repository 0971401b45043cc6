"""Running a service as a real process for a benchmark: environment, readiness, stopping."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Final

import httpx

from bench.harness import REPO_ROOT
from canopy_ingestion.settings import Settings

SERVER_START_TIMEOUT_S: Final = 30.0
SERVER_STOP_TIMEOUT_S: Final = 15.0
LOG_TAIL_BYTES: Final = 4_000


@asynccontextmanager
async def api_server(settings: Settings, port: int) -> AsyncIterator[None]:
    """``python -m canopy_ingestion api`` on ``port``, ready; stopped by its pid afterwards."""
    with tempfile.TemporaryFile() as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "canopy_ingestion",
            "api",
            cwd=REPO_ROOT,
            env=service_env(settings, port),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            await wait_ready(f"http://{settings.host}:{port}/readyz", process, log_file)
            yield
        finally:
            await stop_process(process)


def service_env(settings: Settings, port: int) -> dict[str, str]:
    """The environment in which ``python -m canopy_ingestion`` loads ``settings`` and serves
    on ``port``."""
    env = dict(os.environ)
    groups = {
        "CANOPY_KAFKA_": settings.kafka,
        "CANOPY_PG_": settings.postgres,
        "CANOPY_REDIS_": settings.redis,
        "CANOPY_JWT_": settings.auth,
    }
    for prefix, group in groups.items():
        for name, value in group.model_dump().items():
            if value is not None:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                env[f"{prefix}{name.upper()}"] = text
    env.update(
        CANOPY_INGESTION_DB_SCHEMA=settings.db_schema,
        CANOPY_INGESTION_CONSUMER_GROUP=settings.consumer_group,
        CANOPY_INGESTION_HOST=settings.host,
        CANOPY_INGESTION_PORT=str(port),
        CANOPY_LOG_LEVEL="WARNING",
    )
    return env


async def wait_ready(url: str, process: asyncio.subprocess.Process, log_file: IO[bytes]) -> None:
    """Poll ``/readyz`` until it answers 200; fail with the end of the server's log if it
    exits or :data:`SERVER_START_TIMEOUT_S` runs out first."""
    deadline = time.perf_counter() + SERVER_START_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.perf_counter() < deadline and process.returncode is None:
            with contextlib.suppress(httpx.HTTPError):  # not listening yet
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    log_file.seek(max(0, log_file.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
    tail = log_file.read().decode(errors="replace")
    state = "not ready" if process.returncode is None else f"exited ({process.returncode})"
    raise RuntimeError(f"the ingestion API is {state}; its log ends:\n{tail}")


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it outlasts the timeout."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), SERVER_STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
