"""Prometheus metrics for Canopy: named ``canopy_<service>_<noun>_<unit>`` (docs/architecture.md
§10).

Create metrics through :func:`get_or_create_counter`, :func:`get_or_create_histogram` and
:func:`get_or_create_gauge`: they return the metric already registered under a name instead of
failing with "Duplicated timeseries", so several services, and several apps of one service in
a test process, share one default registry. :class:`HttpMetrics` times every request by route
template; :func:`metrics_router` serves ``/metrics``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "unmatched"
# Any other method is counted as "other": a client must not be able to mint label values.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NOT_IN_NAME = re.compile(r"[^a-z0-9_]+")

_Metric = TypeVar("_Metric", bound=MetricWrapperBase)

_lock = threading.Lock()
_metrics: dict[str, tuple[MetricWrapperBase, tuple[str, ...]]] = {}
_multiprocess_dir: str | None = None  # see enable_multiprocess_metrics


def metric_name(service: str, name: str) -> str:
    """``canopy_<service>_<name>``, e.g. ``metric_name("fanout", "recipients_total")``.

    The service name is lower-cased with other characters turned into ``_``; a leading
    ``canopy`` in it is not repeated.
    """
    slug = _NOT_IN_NAME.sub("_", service.lower()).strip("_")
    slug = slug.removeprefix("canopy").strip("_")
    return f"canopy_{slug}_{name}" if slug else f"canopy_{name}"


def _get_or_create(
    kind: type[_Metric],
    name: str,
    documentation: str,
    labelnames: Sequence[str],
    **kwargs: Any,
) -> _Metric:
    labels = tuple(labelnames)
    with _lock:
        found = _metrics.get(name)
        if found is None:
            metric = kind(name, documentation, labels, **kwargs)
            _metrics[name] = (metric, labels)
            return metric
    existing, existing_labels = found
    if not isinstance(existing, kind) or existing_labels != labels:
        raise ValueError(
            f"metric {name} already exists as a {type(existing).__name__} with labels "
            f"{list(existing_labels)}; asked for a {kind.__name__} with labels {list(labels)}"
        )
    return existing


def get_or_create_counter(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
    """The counter registered as ``name``, created on first use."""
    return _get_or_create(Counter, name, documentation, labelnames)


def get_or_create_gauge(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Gauge:
    """The gauge registered as ``name``, created on first use."""
    return _get_or_create(Gauge, name, documentation, labelnames)


def get_or_create_histogram(
    name: str,
    documentation: str,
    labelnames: Sequence[str] = (),
    *,
    buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
) -> Histogram:
    """The histogram registered as ``name``, created on first use (``buckets`` apply then)."""
    return _get_or_create(Histogram, name, documentation, labelnames, buckets=tuple(buckets))


# The scope of the HTTP request the current task serves (set by HttpMetrics), so work done
# for a request can be labelled by its route (canopy_common.db_metrics); None outside one.
request_scope: ContextVar[Scope | None] = ContextVar("canopy_request_scope", default=None)


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (``/v1/posts/{post_id}``), after routing.

    Requests no route matched give ``"unmatched"``, so the label's values stay bounded by the
    app's routes. A route inside a ``Mount`` is named by its path within the mount.
    """
    # FastAPI >= 0.16x keeps included routers nested; the route's own `path` then lacks the
    # prefixes of the routers around it, which only this context has. Optional, hence getattr.
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        context = fastapi_scope.get("effective_route_context")
        path = getattr(context, "path_format", None)
        if isinstance(path, str):
            return path
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class HttpMetrics:
    """ASGI middleware timing each HTTP request by route template, method and status.

    Records ``canopy_<service>_http_request_duration_seconds`` (histogram; labels ``route``,
    ``method``, ``status``) and ``canopy_<service>_http_requests_in_progress`` (gauge). Add it
    with ``app.add_middleware(HttpMetrics, service="fanout")``. A request that fails before
    its response starts counts as status 500.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.duration = get_or_create_histogram(
            metric_name(service, "http_request_duration_seconds"),
            "Time to serve an HTTP request, by route template, method and status.",
            ("route", "method", "status"),
        )
        self.in_progress = get_or_create_gauge(
            metric_name(service, "http_requests_in_progress"),
            "HTTP requests being served now.",
        )
        # The series of each (route, method, status): `labels()` checks and locks every time.
        self._series: dict[tuple[str, str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "other"
        started = time.perf_counter()
        self.in_progress.inc()
        scope_token = request_scope.set(scope)
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            request_scope.reset(scope_token)
            self.in_progress.dec()
            # The router has written the matched route into `scope` by now.
            key = (route_template(scope), method, str(status))
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = self.duration.labels(*key)
            series.observe(time.perf_counter() - started)


def enable_multiprocess_metrics(directory: str) -> None:
    """Keep metric values in files in ``directory``, where every process of a service writes
    its own and :func:`metrics_response` reads them all (``prometheus_client``'s multiprocess
    mode). Call it before any metric exists: values made earlier stay in memory, unseen."""
    global _multiprocess_dir
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    _multiprocess_dir = directory


def metrics_response() -> Response:
    """Every metric of the default registry (of every process of the service, after
    :func:`enable_multiprocess_metrics`), in the Prometheus text format."""
    if _multiprocess_dir is None:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=_multiprocess_dir)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def metrics_endpoint() -> Response:
    """The ``GET /metrics`` endpoint: :func:`metrics_response` as a route handler."""
    return metrics_response()


def metrics_router() -> APIRouter:
    """A router serving ``GET /metrics`` (left out of the OpenAPI schema)."""
    router = APIRouter()
    router.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    return router
