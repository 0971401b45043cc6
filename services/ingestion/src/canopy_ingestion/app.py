"""The ingestion service: upstream events and HTTP writes, published as canonical activities."""

from __future__ import annotations

from fastapi import FastAPI

from canopy_common.rate_limits import RouteClass, route_key
from canopy_common.service import Mode, ServiceDefinition, create_service_app, runtime_only
from canopy_ingestion.adapters.people import people
from canopy_ingestion.adapters.relay import outbox_relay
from canopy_ingestion.api import PROVISIONING_ROUTERS, ROUTERS
from canopy_ingestion.consumers import CONSUMERS
from canopy_ingestion.export_purge import export_purge
from canopy_ingestion.settings import Settings

DEFINITION = ServiceDefinition(
    name="ingestion",
    title="Canopy Ingestion",
    package="canopy_ingestion",
    # Its routes, consumer and relay need nothing beyond the clients.
    bootstrap=runtime_only,
    consumers=CONSUMERS,
    people=people,
    routers=ROUTERS,
    provisioning_routers=PROVISIONING_ROUTERS,
    workers=[outbox_relay, export_purge],
    # People search scans the tenant's people (ILIKE): its own, smaller budget.
    route_classes={route_key("GET", "/v1/users"): RouteClass.SEARCH},
    # The source of truth: its tenant-owned tables have policies (migration 0007).
    row_level_security=True,
)


def create_app(settings: Settings, mode: Mode = Mode.ALL) -> FastAPI:
    """The service's ASGI app; clients are built by its lifespan."""
    return create_service_app(DEFINITION, settings, mode)
