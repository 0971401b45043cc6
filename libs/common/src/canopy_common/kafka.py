"""Kafka for Canopy: topic setup here; the producer and the consumer loop re-exported.

Import everything Kafka from this module::

    from canopy_common.kafka import ConsumedRecord, Consumer, Producer, ensure_topics

The producer lives in :mod:`canopy_common.kafka_producer`, the consumer loop and its steps
(manual commit, retries, DLQ) in :mod:`canopy_common.consuming`, and the transient/poison split
in :mod:`canopy_common.transient`.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from canopy_common.consuming import (
    BatchHandler,
    ConsumedRecord,
    Consumer,
    ConsumerMetrics,
    Handler,
    Rejected,
    consumer_metrics,
    dead_letter_headers,
)
from canopy_common.kafka_producer import (
    Delivery,
    Headers,
    Payload,
    Producer,
    RecordBatch,
    dumps,
    encode_headers,
    encode_payload,
    loads,
)
from canopy_common.kafka_security import client_security
from canopy_common.settings import KafkaSettings
from canopy_common.transient import TransientError, is_transient

__all__ = [
    "BatchHandler",
    "ConsumedRecord",
    "Consumer",
    "ConsumerMetrics",
    "Delivery",
    "Handler",
    "Headers",
    "Payload",
    "Producer",
    "RecordBatch",
    "Rejected",
    "TransientError",
    "consumer_metrics",
    "dead_letter_headers",
    "dumps",
    "encode_headers",
    "encode_payload",
    "ensure_topics",
    "is_transient",
    "loads",
]

TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


async def ensure_topics(settings: KafkaSettings, topics: Iterable[str] | None = None) -> list[str]:
    """Create the missing topics (default: all of docs/architecture.md §2); return those created.

    Safe to call from every service at start and after a broker restart: an existing topic is
    left as it is.
    """
    wanted = list(topics if topics is not None else settings.all_topics())
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-admin",
        request_timeout_ms=settings.request_timeout_ms,
        **client_security(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(t, settings.partitions, settings.replication_factor) for t in missing]
        )
        created = []
        for topic, code, message in ((e[0], e[1], e[2]) for e in response.topic_errors):
            if code == 0:
                created.append(topic)
            elif code != TOPIC_ALREADY_EXISTS:  # a concurrent creator won the race: fine
                raise RuntimeError(f"cannot create topic {topic}: {message} (error {code})")
        return created
    finally:
        await admin.close()
