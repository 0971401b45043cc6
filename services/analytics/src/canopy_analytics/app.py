"""The analytics service: engagement analytics and people discovery."""

from __future__ import annotations

from fastapi import FastAPI

from canopy_analytics.consumers import CONSUMERS
from canopy_analytics.settings import Settings
from canopy_common.service import Mode, ServiceDefinition, create_service_app

DEFINITION = ServiceDefinition(
    name="analytics",
    title="Canopy Analytics",
    package="canopy_analytics",
    consumers=CONSUMERS,
)


def create_app(settings: Settings, mode: Mode = Mode.ALL) -> FastAPI:
    """The service's ASGI app; clients are built by its lifespan."""
    return create_service_app(DEFINITION, settings, mode)
