"""What one running service process is: its run mode, its clients (:class:`Runtime`, typed by
the service's settings) and its background workers, and how a route reaches them on
``app.state``. Built by the lifespan in :mod:`canopy_common.service`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

import asyncpg
from fastapi import Request
from redis.asyncio import Redis

from canopy_common.kafka import Consumer, Producer
from canopy_common.members import Members, NoPeople
from canopy_common.settings import ServiceSettings


class Mode(StrEnum):
    API = "api"  # HTTP API only
    WORKER = "worker"  # consumers and workers only (HTTP serves /healthz, /readyz, /metrics)
    ALL = "all"  # both in one process


class BackgroundWorker(Protocol):
    """A loop a service runs beside its consumers (the outbox relay, a reminder scheduler).

    ``start`` returns at once (the work runs in a task of its own); ``stop`` finishes the work
    in flight and returns when the loop has ended; ``ready`` tells ``/readyz`` it is doing its
    job.
    """

    @property
    def ready(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


_Component = TypeVar("_Component")
_SettingsT_co = TypeVar("_SettingsT_co", bound=ServiceSettings, covariant=True)


@dataclass(frozen=True)
class Runtime(Generic[_SettingsT_co]):
    """The clients one service process holds, typed by the service's settings; built by the
    lifespan, kept on ``app.state``. ``consumers`` and ``workers`` fill in as they start."""

    settings: _SettingsT_co
    pool: asyncpg.Pool
    redis: Redis
    producer: Producer
    consumers: list[Consumer] = field(default_factory=list)
    workers: list[BackgroundWorker] = field(default_factory=list)
    # Who may act (canopy_common.members); built from the service's own projection of people.
    members: Members = field(default_factory=lambda: Members(NoPeople(), ttl_s=0))

    def component(self, kind: type[_Component]) -> _Component:
        """The running worker of type ``kind`` (e.g. a buffer an API route feeds)."""
        for worker in self.workers:
            if isinstance(worker, kind):
                return worker
        raise LookupError(f"no {kind.__name__} runs in this process")


def runtime_of(request: Request) -> Runtime[ServiceSettings]:
    """The service's :class:`Runtime`, for the operations routes (health, readiness)."""
    runtime: Runtime[ServiceSettings] = request.app.state.runtime
    return runtime


def collaborators_of(request: Request, kind: type[_Component]) -> _Component:
    """The collaborators the service's ``bootstrap`` built, checked to be a ``kind``: what a
    service's ``Annotated`` route dependencies read."""
    collaborators = request.app.state.collaborators
    if not isinstance(collaborators, kind):
        raise TypeError(f"this app's collaborators are no {kind.__name__}")
    return collaborators
