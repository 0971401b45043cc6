"""Prometheus series of the web client (docs/architecture.md §10 and §18; bounded labels only:
no user ids, no paths that are not route templates).

Page requests by route template, method and status, and their latency, come from
``canopy_common.metrics.HttpMetrics`` (``canopy_web_http_request_duration_seconds``) like every
other service's; this module adds what only the web client knows: the API calls it makes as
the signed-in person, sign-ins, and the live streams it holds open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram

from canopy_common.metrics import (
    get_or_create_counter,
    get_or_create_gauge,
    get_or_create_histogram,
    metric_name,
)

SERVICE = "web"
# A page makes a few API calls in series; most answer in milliseconds, a slow one is a slow
# page. Buckets from 5 ms to the API timeout's order of magnitude.
API_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Outcome(StrEnum):
    """How an API call ended, as :mod:`canopy_web.api` maps it."""

    OK = "ok"  # a 2xx
    REFUSED = "refused"  # a 4xx problem other than 401 (the page shows it)
    SIGNED_OUT = "signed_out"  # 401: the session is over
    DOWN = "down"  # a 5xx or 429 (a 503 page)
    UNREACHABLE = "unreachable"  # a timeout, a refused or reset connection (a 503 page)


@dataclass(frozen=True)
class WebMetrics:
    api_calls: Counter  # {service, outcome}
    api_duration: Histogram  # {service}
    sign_ins: Counter  # {method}
    live_streams: Gauge  # live streams (/live) open in this process

    def api_call(self, service: str, outcome: Outcome, seconds: float) -> None:
        """Count one call to ``service`` and how it ended."""
        self.api_calls.labels(service, outcome).inc()
        self.api_duration.labels(service).observe(seconds)

    @contextmanager
    def live_stream(self) -> Iterator[None]:
        """Count a live stream as open while the block runs."""
        self.live_streams.inc()
        try:
            yield
        finally:
            self.live_streams.dec()


def web_metrics() -> WebMetrics:
    """The web client's series (registered once per process, shared by every app in it)."""
    return WebMetrics(
        api_calls=get_or_create_counter(
            metric_name(SERVICE, "api_calls_total"),
            "Calls to the services' APIs made for pages, by service and outcome "
            "(ok, refused, signed_out, down, unreachable).",
            ["service", "outcome"],
        ),
        api_duration=get_or_create_histogram(
            metric_name(SERVICE, "api_call_duration_seconds"),
            "Time a service took to answer a call made for a page, by service.",
            ["service"],
            buckets=API_BUCKETS,
        ),
        sign_ins=get_or_create_counter(
            metric_name(SERVICE, "sign_ins_total"),
            "Sessions started, by sign-in method (dev, oidc).",
            ["method"],
        ),
        live_streams=get_or_create_gauge(
            metric_name(SERVICE, "live_streams_open"),
            "Live update streams (/live) open in this process.",
        ),
    )
