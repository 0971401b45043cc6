"""The analytics service: engagement analytics and people discovery."""

from __future__ import annotations

from fastapi import FastAPI

from canopy_analytics.adapters import projections
from canopy_analytics.api import analytics, people, questions, search
from canopy_analytics.bootstrap import Collaborators, bootstrap, load_model
from canopy_analytics.embedding import EmbeddingWorker
from canopy_analytics.export_section import EXPORT_CONSUMER
from canopy_analytics.settings import Settings
from canopy_analytics.stream import AnalyticsStream
from canopy_common.rate_limits import RouteClass, every_route
from canopy_common.service import Mode, ServiceDefinition, create_service_app


def _stream(service: Collaborators) -> AnalyticsStream:
    # Runs in worker and all modes; an api process consumes nothing.
    runtime = service.runtime
    return AnalyticsStream(
        service.settings,
        pool=runtime.pool,
        redis=runtime.redis,
        producer=runtime.producer,
        members=runtime.members,
    )


def _embedding(service: Collaborators) -> EmbeddingWorker:
    # Vectors of posts and the likely answerers of new questions (docs/architecture.md §17).
    runtime = service.runtime
    return EmbeddingWorker(
        service.settings,
        pool=runtime.pool,
        producer=runtime.producer,
        semantics=service.semantics,
    )


DEFINITION = ServiceDefinition(
    name="analytics",
    title="Canopy Analytics",
    package="canopy_analytics",
    bootstrap=bootstrap,
    people=projections.people,
    routers=[analytics.router, people.router, search.router, questions.router],
    consumers=[EXPORT_CONSUMER],  # its section of a person's data export
    workers=(_stream, _embedding),
    on_start=(load_model,),  # the embedding model, before routes and workers use it
    # Reports and discovery rank over whole tenants: each read costs many feed reads. Search
    # draws on the search budget; its settings are ordinary reads and writes.
    route_classes={
        **every_route(RouteClass.ANALYTICS, analytics.router, people.router),
        "GET /v1/search": RouteClass.SEARCH,
        "GET /v1/questions/similar": RouteClass.SEARCH,  # asked while someone types
    },
)


def create_app(settings: Settings, mode: Mode = Mode.ALL) -> FastAPI:
    """The service's ASGI app; clients are built by its lifespan."""
    return create_service_app(DEFINITION, settings, mode)
