"""The notification service: notifications, preferences, reminders and the live stream."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from canopy_common.rate_limits import RouteClass, route_key
from canopy_common.service import Mode, ServiceDefinition, create_service_app
from canopy_notify.adapters.projections import people
from canopy_notify.api import notifications, preferences
from canopy_notify.bootstrap import Collaborators, bootstrap
from canopy_notify.consumers import CONSUMERS
from canopy_notify.settings import Settings
from canopy_notify.workers import Scheduler


def _scheduler(service: Collaborators) -> Scheduler:
    settings, producer = service.settings, service.runtime.producer

    async def send(key: str, value: dict[str, Any]) -> None:
        await producer.send(settings.kafka.topic_deliveries, value, key=key)

    return Scheduler(service.runtime.pool, notifier=service.notifier, send=send)


DEFINITION = ServiceDefinition(
    name="notify",
    title="Canopy Notification",
    package="canopy_notify",
    bootstrap=bootstrap,
    people=people,
    routers=(notifications.router, preferences.router),
    consumers=CONSUMERS,
    workers=(_scheduler,),
    # An open stream holds a Redis subscription and a connection: counted while open.
    route_classes={route_key("GET", "/v1/notifications/stream"): RouteClass.STREAMS},
)


def create_app(settings: Settings, mode: Mode = Mode.ALL) -> FastAPI:
    """The service's ASGI app; clients are built by its lifespan."""
    return create_service_app(DEFINITION, settings, mode)
