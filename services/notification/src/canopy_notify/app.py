"""The notification service: notifications, preferences, reminders and the live stream."""

from __future__ import annotations

from fastapi import FastAPI

from canopy_common.service import Mode, ServiceDefinition, create_service_app
from canopy_notify.consumers import CONSUMERS
from canopy_notify.settings import Settings

DEFINITION = ServiceDefinition(
    name="notify",
    title="Canopy Notification",
    package="canopy_notify",
    consumers=CONSUMERS,
)


def create_app(settings: Settings, mode: Mode = Mode.ALL) -> FastAPI:
    """The service's ASGI app; clients are built by its lifespan."""
    return create_service_app(DEFINITION, settings, mode)
