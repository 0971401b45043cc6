"""What the analytics service consumes, and the handler for each topic."""

from __future__ import annotations

from canopy_common.inbox import activity_batch_handler, activity_handler
from canopy_common.kafka_consumer import BatchHandler, Handler
from canopy_common.service import ConsumerSpec, Runtime
from canopy_common.settings import ServiceSettings


def _topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_activities, settings.kafka.topic_impressions]


def _handler(runtime: Runtime) -> Handler:
    # Validates each record (strict AS2; poison goes to the DLQ) and records its id once.
    return activity_handler(runtime.pool)


def _batch_handler(runtime: Runtime) -> BatchHandler:
    return activity_batch_handler(runtime.pool)


CONSUMERS = [
    ConsumerSpec(name="activities", topics=_topics, handler=_handler, batch_handler=_batch_handler)
]
