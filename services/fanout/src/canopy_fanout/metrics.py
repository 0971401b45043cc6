"""The fanout service's Prometheus metrics (``canopy_fanout_*``); labels stay bounded."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from canopy_common.metrics import get_or_create_counter, get_or_create_histogram, metric_name

SERVICE = "fanout"
_RECIPIENT_BUCKETS = (0, 1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True)
class FanoutMetrics:
    recipients: Histogram
    latency: Histogram
    feed_reads: Counter
    chunks: Counter
    pulled: Counter


def fanout_metrics() -> FanoutMetrics:
    """The service's metrics (registered once per process)."""
    return FanoutMetrics(
        recipients=get_or_create_histogram(
            metric_name(SERVICE, "recipients"),
            "Home feeds one item was pushed into (after audience resolution)",
            (),
            buckets=_RECIPIENT_BUCKETS,
        ),
        latency=get_or_create_histogram(
            metric_name(SERVICE, "latency_seconds"),
            "End to end: activity published until written into its readers' feeds",
            ("path",),
            buckets=_LATENCY_BUCKETS,
        ),
        feed_reads=get_or_create_counter(
            metric_name(SERVICE, "feed_reads_total"),
            "Feed reads by feed kind and cache result (hit, miss, rebuild, deep)",
            ("feed", "result"),
        ),
        chunks=get_or_create_counter(
            metric_name(SERVICE, "chunks_total"),
            "Fan-out work chunks, by stage (published, applied)",
            ("stage",),
        ),
        pulled=get_or_create_counter(
            metric_name(SERVICE, "pulled_items_total"),
            "Items not pushed to an audience because their source is pulled on read",
            ("source",),
        ),
    )
