"""Every authenticated route of every service draws on a rate-limit budget, and each service's
own naming of route classes names routes that exist (no server needed: the apps are only
built, never started)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts

from canopy_analytics.app import DEFINITION as ANALYTICS
from canopy_analytics.settings import Settings as AnalyticsSettings
from canopy_common.rate_limits import RouteClass, classify, route_key
from canopy_common.service import ServiceDefinition, create_service_app
from canopy_common.settings import ServiceSettings
from canopy_fanout.app import DEFINITION as FANOUT
from canopy_fanout.settings import Settings as FanoutSettings
from canopy_ingestion.app import DEFINITION as INGESTION
from canopy_ingestion.settings import Settings as IngestionSettings
from canopy_notify.app import DEFINITION as NOTIFY
from canopy_notify.settings import Settings as NotifySettings

SERVICES: list[tuple[ServiceDefinition[Any, Any], type[ServiceSettings]]] = [
    (INGESTION, IngestionSettings),
    (FANOUT, FanoutSettings),
    (NOTIFY, NotifySettings),
    (ANALYTICS, AnalyticsSettings),
]
# Served by FastAPI itself or by canopy_common.health: never limited.
OPERATIONS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)


def calls(route: RouteContext) -> set[str]:
    """The names of every dependency the route runs, however deep."""
    names: set[str] = set()
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        names.add(getattr(dependency.call, "__name__", repr(dependency.call)))
        pending += dependency.dependencies
    return names


def routes_of(app: FastAPI) -> list[RouteContext]:
    return list(iter_route_contexts(app.routes))


@pytest.mark.parametrize(("definition", "settings"), SERVICES, ids=lambda v: getattr(v, "name", ""))
def test_every_authenticated_route_draws_on_a_budget_and_operations_never_do(
    definition: ServiceDefinition[Any, Any], settings: type[ServiceSettings]
) -> None:
    app = create_service_app(definition, settings())

    unlimited, operations = [], []
    for route in routes_of(app):
        path = route.path_format
        if path in OPERATIONS:
            if hasattr(route, "dependant") and "rate_limited" in calls(route):
                operations.append(path)
            continue
        if "rate_limited" not in calls(route):
            unlimited.append(route_key(next(iter(route.methods or {"?"})), path or "?"))

    assert unlimited == []
    assert operations == []


@pytest.mark.parametrize(("definition", "settings"), SERVICES, ids=lambda v: getattr(v, "name", ""))
def test_every_route_a_service_classes_exists(
    definition: ServiceDefinition[Any, Any], settings: type[ServiceSettings]
) -> None:
    app = create_service_app(definition, settings())
    served = {
        route_key(method, route.path_format or "")
        for route in routes_of(app)
        for method in route.methods or ()
    }

    assert set(definition.route_classes) <= served


def test_the_costly_routes_are_in_their_own_classes() -> None:
    assert classify("GET", "/v1/users", INGESTION.route_classes) is RouteClass.SEARCH
    assert classify("GET", "/v1/users/{user_id}", INGESTION.route_classes) is RouteClass.READS
    assert classify("PUT", "/v1/users/{user_id}", INGESTION.route_classes) is RouteClass.WRITES
    assert classify("GET", "/v1/notifications/stream", NOTIFY.route_classes) is RouteClass.STREAMS
    assert classify("GET", "/v1/analytics/summary", ANALYTICS.route_classes) is (
        RouteClass.ANALYTICS
    )
    assert classify("GET", "/v1/groups/suggestions", ANALYTICS.route_classes) is (
        RouteClass.ANALYTICS
    )
    assert classify("GET", "/v1/feeds/home", FANOUT.route_classes) is RouteClass.READS
    assert classify("PUT", "/v1/markers", FANOUT.route_classes) is RouteClass.WRITES
