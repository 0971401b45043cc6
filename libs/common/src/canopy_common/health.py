"""The operations routes every service serves: ``/healthz`` (alive), ``/readyz`` (its
Postgres schema, Redis and broker answer, its consumers are assigned, their topics exist and
their commits succeed, and its workers are ready; else 503 problem+json with ``Retry-After``)
and ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from canopy_common.kafka import Consumer
from canopy_common.metrics import metrics_response
from canopy_common.problems import problem_response
from canopy_common.runtime import BackgroundWorker, Runtime, runtime_of
from canopy_common.settings import ServiceSettings

READINESS_TIMEOUT_S = 2.0


async def _check(name: str, probe: Awaitable[Any]) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(probe, READINESS_TIMEOUT_S)
    except Exception as exc:
        return name, f"{type(exc).__name__}: {exc}"
    return name, None


async def _consumers_assigned(consumers: Sequence[Consumer]) -> None:
    waiting = [c.topics for c in consumers if not c.assigned]
    if waiting:
        raise RuntimeError(f"consumers not assigned yet: {waiting}")
    # Joined, but a subscribed topic is gone or commits keep failing: not doing its job.
    troubled = [f"{c.group_id}: {problem}" for c in consumers for problem in c.problems]
    if troubled:
        raise RuntimeError("; ".join(troubled))


async def _workers_ready(workers: Sequence[BackgroundWorker]) -> None:
    waiting = [type(w).__name__ for w in workers if not w.ready]
    if waiting:
        raise RuntimeError(f"workers not ready: {waiting}")


async def readiness(runtime: Runtime[ServiceSettings]) -> dict[str, str | None]:
    """Each check's failure reason, or None when it passed."""
    schema = runtime.settings.db_schema
    checks = await asyncio.gather(
        _check("postgres", runtime.pool.fetchval(f'SELECT 1 FROM "{schema}".schema_migrations')),
        _check("redis", runtime.redis.ping()),
        _check("broker", runtime.producer.ping()),
        _check("consumers", _consumers_assigned(runtime.consumers)),
        _check("workers", _workers_ready(runtime.workers)),
    )
    return dict(checks)


def health_router() -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz", summary="Postgres, Redis and the broker answer; consumers and workers running"
    )
    async def readyz(request: Request) -> Response:
        checks = await readiness(runtime_of(request))
        failed = {name: reason for name, reason in checks.items() if reason}
        if failed:
            return problem_response(
                503,
                "not ready: " + ", ".join(sorted(failed)),
                code="not-ready",
                extra={"checks": {n: r or "ok" for n, r in checks.items()}},
                headers={"Retry-After": "2"},
            )
        return JSONResponse({"status": "ready", "checks": {n: "ok" for n in checks}})

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response()

    return router
