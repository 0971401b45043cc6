"""Prometheus series of the analytics stream (docs/architecture.md §10); labels stay bounded: the
stream kind (activities, impressions), the outcome, and the topic and partition for lag.

:class:`Kind` and :class:`BatchOutcome` live here, with the series they label and count, so
that :mod:`canopy_analytics.batches` depends on this module and not the other way round."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram

from canopy_common.consuming import PartitionLag, partition_lag
from canopy_common.metrics import (
    get_or_create_counter,
    get_or_create_gauge,
    get_or_create_histogram,
    metric_name,
)

SERVICE = "analytics"
# Batches of up to a few hundred records in one transaction: milliseconds to seconds.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Kind(StrEnum):
    """What a stream carries; the ``kind`` label of the stream metrics."""

    ACTIVITIES = "activities"
    IMPRESSIONS = "impressions"


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What became of a batch's records."""

    applied: int  # first deliveries applied
    duplicates: int  # valid, but already applied before (redeliveries)
    dead_lettered: int


@dataclass(frozen=True, slots=True)
class StreamMetrics:
    """The stream's series (registered once per process, shared by every stream in it).

    - ``canopy_analytics_stream_records_total{kind, outcome}``: ``processed`` (applied),
      ``duplicate`` (a redelivery, skipped), ``dead_lettered``, or ``retried`` (in an attempt
      that failed for a transient reason, once per attempt, as canopy_common's consumers);
    - ``canopy_analytics_stream_batch_duration_seconds{kind}``: applying one batch, retries and
      dead-lettering included;
    - ``canopy_analytics_consumer_lag_records{topic, partition}``: high watermark minus the next
      offset to apply, after each batch (the name every Canopy consumer uses);
    - ``canopy_analytics_stream_running``: streams of this process running with partitions assigned.
    """

    records: Counter
    batch_duration: Histogram
    lag: PartitionLag
    running: Gauge

    def count(self, kind: Kind, outcome: BatchOutcome) -> None:
        """Count a batch's records by outcome."""
        for label, n in (
            ("processed", outcome.applied),
            ("duplicate", outcome.duplicates),
            ("dead_lettered", outcome.dead_lettered),
        ):
            if n:
                self.records.labels(kind.value, label).inc(n)


def stream_metrics() -> StreamMetrics:
    """The analytics stream's metrics."""
    return StreamMetrics(
        records=get_or_create_counter(
            metric_name(SERVICE, "stream_records_total"),
            "Stream records by kind and outcome.",
            ["kind", "outcome"],
        ),
        batch_duration=get_or_create_histogram(
            metric_name(SERVICE, "stream_batch_duration_seconds"),
            "Time to apply one batch of stream records, by kind.",
            ["kind"],
            buckets=BATCH_BUCKETS,
        ),
        lag=partition_lag(SERVICE),
        running=get_or_create_gauge(
            metric_name(SERVICE, "stream_running"),
            "1 while the analytics stream runs with its partitions assigned, else 0.",
        ),
    )
