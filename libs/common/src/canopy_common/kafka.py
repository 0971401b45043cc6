"""Kafka clients for Canopy: topic setup, producer and consumer lifecycle, commits, DLQ."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from canopy_common.settings import KafkaSettings

TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


async def ensure_topics(settings: KafkaSettings, topics: Iterable[str] | None = None) -> list[str]:
    """Create the missing topics (default: all of ARCHITECTURE §2); return those created.

    Safe to call from every service at start and after a broker restart: an existing topic is
    left as it is.
    """
    wanted = list(topics if topics is not None else settings.all_topics())
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-admin",
        request_timeout_ms=settings.request_timeout_ms,
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
