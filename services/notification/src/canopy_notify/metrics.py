"""Prometheus series of the notification service (bounded labels only: no user ids)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from canopy_common.metrics import get_or_create_counter, get_or_create_gauge, metric_name

SERVICE = "notify"


@dataclass(frozen=True)
class NotifyMetrics:
    created: Counter  # {type, how: new | grouped}
    suppressed: Counter  # {reason}
    delivered: Counter  # {channel, outcome}
    reminders: Counter  # {outcome: fired | cancelled}
    routed_questions: Counter  # {outcome: canopy_notify.domain.routing.Outcome}
    streams: Gauge  # live stream connections open in this process


def notify_metrics() -> NotifyMetrics:
    return NotifyMetrics(
        created=get_or_create_counter(
            metric_name(SERVICE, "notifications_created_total"),
            "Notifications created, or grown by one more actor (grouped), by type.",
            ["type", "how"],
        ),
        suppressed=get_or_create_counter(
            metric_name(SERVICE, "notifications_suppressed_total"),
            "Candidates not told, by reason (duplicate, actor, invisible, preferences, muted).",
            ["reason"],
        ),
        delivered=get_or_create_counter(
            metric_name(SERVICE, "outside_deliveries_total"),
            "Outside-channel deliveries decided, by channel and outcome.",
            ["channel", "outcome"],
        ),
        reminders=get_or_create_counter(
            metric_name(SERVICE, "reminders_total"),
            "Task due reminders, by outcome.",
            ["outcome"],
        ),
        routed_questions=get_or_create_counter(
            metric_name(SERVICE, "routed_questions_total"),
            "Questions come due for routing to likely answerers, by outcome (routed, nobody, "
            "answered, no_candidates: given up; retried: candidates late, armed again).",
            ["outcome"],
        ),
        streams=get_or_create_gauge(
            metric_name(SERVICE, "stream_connections"),
            "Live stream (SSE) connections open in this process.",
        ),
    )
