"""The fanout service: activity feeds (timelines in Redis, durable in Postgres)."""

from __future__ import annotations

from fastapi import FastAPI

from canopy_common.service import Mode, ServiceDefinition, create_service_app
from canopy_fanout.consumers import CONSUMERS
from canopy_fanout.settings import Settings

DEFINITION = ServiceDefinition(
    name="fanout",
    title="Canopy Fan-out",
    package="canopy_fanout",
    consumers=CONSUMERS,
)


def create_app(settings: Settings, mode: Mode = Mode.ALL) -> FastAPI:
    """The service's ASGI app; clients are built by its lifespan."""
    return create_service_app(DEFINITION, settings, mode)
