"""The Prometheus series every aiokafka consumer of a service shares (docs/architecture.md §10)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

from prometheus_client import Counter, Gauge

from canopy_common.metrics import get_or_create_counter, get_or_create_gauge, metric_name

Outcome = Literal["processed", "failed", "retried", "dead_lettered"]


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """``canopy_<service>_consumer_lag_records{topic, partition}``: high watermark minus the next
    offset to process, per partition this member holds.

    One series name for every consumer of every service (canopy_common's and analytics'
    stream), so one lag alert covers them all (docs/architecture.md §10).
    """

    gauge: Gauge

    def set(self, topic: str, partition: int, records: int) -> None:
        """Set how many records ``topic:partition`` is behind its high watermark."""
        self.gauge.labels(topic, str(partition)).set(records)

    def forget(self, topic: str, partition: int) -> None:
        """Drop the series of a partition this member no longer holds."""
        with contextlib.suppress(KeyError):  # never set: no batch since it was assigned
            self.gauge.remove(topic, str(partition))


def partition_lag(service: str) -> PartitionLag:
    """The lag series of ``service`` (registered once per process, then shared)."""
    return PartitionLag(
        get_or_create_gauge(
            metric_name(service, "consumer_lag_records"),
            "Records behind the high watermark, per assigned partition.",
            ["topic", "partition"],
        )
    )


@dataclass(frozen=True, slots=True)
class ConsumerMetrics:
    """Prometheus series of one service's consumers (shared by all consumers of the service)."""

    records: Counter
    lag: PartitionLag

    def count(self, topic: str, outcome: Outcome) -> None:
        """Count one record of ``topic`` with ``outcome``."""
        self.records.labels(topic, outcome).inc()


def consumer_metrics(service: str) -> ConsumerMetrics:
    """The consumer metrics of ``service`` (registered once per process, then shared).

    ``canopy_<service>_consumer_records_total{topic, outcome}``: outcome is ``processed``
    (handler succeeded), ``failed`` (handler raised, per attempt), ``retried`` (a transient
    failure that will be tried again) or ``dead_lettered``; and :class:`PartitionLag`,
    updated after each batch.
    """
    return ConsumerMetrics(
        records=get_or_create_counter(
            metric_name(service, "consumer_records_total"),
            "Consumed records by outcome.",
            ["topic", "outcome"],
        ),
        lag=partition_lag(service),
    )
