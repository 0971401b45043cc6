"""A fetched Kafka record as every Canopy handler sees it, and the handler signatures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """One Kafka record as a handler sees it; decoding ``value`` is the handler's business."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Mapping[str, bytes]
    timestamp: datetime | None

    def header(self, name: str) -> str | None:
        """A header decoded as UTF-8 (undecodable bytes replaced), or ``None``."""
        value = self.headers.get(name)
        return value.decode("utf-8", "replace") if value is not None else None

    def header_pairs(self) -> Iterable[tuple[str, bytes]]:
        """The headers as (name, value) pairs, as they go on to the DLQ."""
        return self.headers.items()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record a batch handler refused as poison, and why: the consumer dead-letters it."""

    record: ConsumedRecord
    error: Exception


Handler = Callable[[ConsumedRecord], Awaitable[None]]
# Handles fetched records together (one transaction for all of them) and may return those it
# refused as poison, which the consumer dead-letters; the rest are done. An exception sends the
# consumer back to the per-record handler for those records, which retries transient failures
# and dead-letters only the poison record: handlers must be idempotent.
BatchHandler = Callable[[Sequence[ConsumedRecord]], Awaitable[Sequence[Rejected] | None]]


def consumed_record(raw: Any) -> ConsumedRecord:
    """An aiokafka ``ConsumerRecord`` as a :class:`ConsumedRecord` (a null value as ``b""``)."""
    timestamp = raw.timestamp
    return ConsumedRecord(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=raw.key,
        value=raw.value if raw.value is not None else b"",
        headers=dict(raw.headers or ()),
        timestamp=(
            datetime.fromtimestamp(timestamp / 1000, UTC)
            if timestamp is not None and timestamp >= 0
            else None
        ),
    )


def where(record: ConsumedRecord) -> dict[str, Any]:
    """The fields that locate ``record`` in a log line."""
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}
