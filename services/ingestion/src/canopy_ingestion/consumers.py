"""What the ingestion service consumes: upstream AS2 events on ``canopy.upstream.v1``."""

from __future__ import annotations

from canopy_common.inbox import activity_batch_handler, activity_handler
from canopy_common.kafka_consumer import BatchHandler, Handler
from canopy_common.service import ConsumerSpec, Runtime
from canopy_common.settings import ServiceSettings
from canopy_ingestion.upstream import apply_upstream


def _topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_upstream]


def _handler(runtime: Runtime) -> Handler:
    # Strict AS2, applied once per upstream id in the same transaction as its outbox rows; the
    # offset is committed after that commit. Invalid or unsupported records go to the DLQ.
    return activity_handler(runtime.pool, apply_upstream)


def _batch_handler(runtime: Runtime) -> BatchHandler:
    # A fetched batch in one transaction; any bad record sends it back record by record.
    return activity_batch_handler(runtime.pool, apply_upstream)


CONSUMERS = [
    ConsumerSpec(name="upstream", topics=_topics, handler=_handler, batch_handler=_batch_handler)
]
