"""No route of any service can forget who may act (docs/architecture.md §8): every route but
the operations pages and the provisioning routes depends on
:func:`canopy_common.members.current_member`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from canopy_analytics.app import create_app as analytics_app
from canopy_analytics.settings import Settings as AnalyticsSettings
from canopy_common.members import current_member
from canopy_fanout.app import create_app as fanout_app
from canopy_fanout.settings import Settings as FanoutSettings
from canopy_ingestion.app import create_app as ingestion_app
from canopy_ingestion.settings import Settings as IngestionSettings
from canopy_notify.app import create_app as notify_app
from canopy_notify.settings import Settings as NotifySettings
from canopy_testing.route_refusals import PROVISIONING

OPERATIONS = {"GET /healthz", "GET /readyz", "GET /metrics"}
APPS: dict[str, Callable[[], FastAPI]] = {
    "ingestion": lambda: ingestion_app(IngestionSettings()),
    "fanout": lambda: fanout_app(FanoutSettings()),
    "notify": lambda: notify_app(NotifySettings()),
    "analytics": lambda: analytics_app(AnalyticsSettings()),
}


def _depends_on(dependant: Dependant, call: object) -> bool:
    return dependant.call is call or any(_depends_on(d, call) for d in dependant.dependencies)


def _routes(app: FastAPI) -> dict[str, Dependant]:
    """Each route's dependencies as served (routers included with theirs), by "METHOD path"."""
    return {
        f"{method} {route.path}": route.dependant
        for route in iter_route_contexts(app.routes)
        if getattr(route, "dependant", None) is not None
        for method in sorted(route.methods or ())
    }


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_route_but_operations_and_provisioning_requires_an_active_person(
    service: str,
) -> None:
    routes = _routes(APPS[service]())
    unguarded = {
        name for name, dependant in routes.items() if not _depends_on(dependant, current_member)
    }

    assert routes.keys() - OPERATIONS, "no routes found"
    expected = OPERATIONS | (PROVISIONING if service == "ingestion" else set())
    assert unguarded == expected & routes.keys()
