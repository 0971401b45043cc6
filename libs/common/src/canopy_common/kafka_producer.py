"""Publishing to Kafka: JSON encoding, trace headers and an acks=all producer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any, Self, TypeAlias

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from pydantic import BaseModel

from canopy_common.settings import KafkaSettings
from canopy_common.tracing import TRACEPARENT_HEADER, current_traceparent, new_traceparent

#: What :meth:`Producer.send` accepts as a value; ``None`` is a tombstone.
Payload: TypeAlias = bytes | Mapping[str, Any] | BaseModel | None
#: Record headers: a mapping, or ``(name, value)`` pairs when a name repeats.
Headers: TypeAlias = Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]


def dumps(value: Mapping[str, Any] | BaseModel) -> bytes:
    """Encode a mapping or a pydantic model as JSON (models by alias, ``None`` fields left out)."""
    if isinstance(value, BaseModel):
        return orjson.dumps(value.model_dump(mode="json", by_alias=True, exclude_none=True))
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    """Decode JSON; raises ``orjson.JSONDecodeError`` (a ``ValueError``) on bad input."""
    return orjson.loads(data)


def encode_payload(value: Payload) -> bytes | None:
    """The bytes :meth:`Producer.send` puts on the wire for ``value``."""
    if value is None or isinstance(value, bytes):
        return value
    return dumps(value)


def encode_headers(headers: Headers | None) -> list[tuple[str, bytes]]:
    """Headers as Kafka wants them, with a ``traceparent`` added when absent.

    The traceparent is the current one (:func:`canopy_common.tracing.current_traceparent`),
    or a new trace when there is none.
    """
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    encoded = [(name, v.encode() if isinstance(v, str) else v) for name, v in pairs]
    if not any(name == TRACEPARENT_HEADER for name, _ in encoded):
        traceparent = current_traceparent() or new_traceparent()
        encoded.append((TRACEPARENT_HEADER, traceparent.encode()))
    return encoded


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the broker stored a record."""

    topic: str
    partition: int
    offset: int


class RecordBatch:
    """Records for one partition, sent together as one Kafka record batch, which the broker
    writes whole or not at all (see :meth:`Producer.send_batch`).

    :meth:`append` returns False once the batch holds ``max_bytes`` (the first record always
    fits, whatever its size); send what it holds and start another.
    """

    def __init__(self, max_bytes: int) -> None:
        self._builder = BatchBuilder(max_bytes, 0)  # 0: uncompressed, as the producer sends
        self.count = 0

    def append(self, value: bytes, *, key: bytes | None, headers: Headers | None) -> bool:
        """Add a record (headers as :func:`encode_headers` makes them); False when full."""
        added = self._builder.append(
            timestamp=None, key=key, value=value, headers=encode_headers(headers)
        )
        if added is None:
            return False
        self.count += 1
        return True


class Producer:
    """An aiokafka producer with Canopy's settings, JSON values and trace headers.

    ``acks=all`` always; ``enable_idempotence`` follows the settings (off for Tansu, which has
    no InitProducerId; on for real Kafka). Use it as ``async with Producer(settings) as p:`` or
    call :meth:`start` and :meth:`stop` from a lifespan.
    """

    def __init__(self, settings: KafkaSettings, *, client_id: str | None = None) -> None:
        self._settings = settings
        self._client_id = client_id or settings.client_id
        self._client: Any = None
        self._partitioner = DefaultPartitioner()

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has succeeded and :meth:`stop` has not been called since."""
        return self._client is not None

    async def start(self) -> None:
        """Connect to the broker; raises (e.g. ``KafkaConnectionError``) when it is unreachable."""
        if self._client is not None:
            return
        client = AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=self._settings.enable_idempotence,
            request_timeout_ms=self._settings.request_timeout_ms,
            partitioner=self._partitioner,
        )
        try:
            await client.start()
        except BaseException:
            await client.stop()
            raise
        self._client = client

    async def stop(self) -> None:
        """Deliver what is pending and disconnect; safe to call twice."""
        client, self._client = self._client, None
        if client is not None:
            await client.stop()

    async def ping(self) -> None:
        """Ask the broker for cluster metadata: raises when it cannot answer (for ``/readyz``)."""
        if self._client is None:
            raise RuntimeError("producer not started")
        await self._client.client.fetch_all_metadata()

    async def partitions_for(self, topic: str) -> list[int]:
        """The topic's partition numbers, in order (from cached cluster metadata)."""
        if self._client is None:
            raise RuntimeError("producer not started")
        return sorted(await self._client.partitions_for(topic))

    async def partitions_of(self, topic: str, keys: Iterable[str | bytes]) -> list[int]:
        """The partitions :meth:`send` puts records with ``keys`` on (Kafka's default
        partitioner: murmur2 of the key over the topic's partitions)."""
        partitions = tuple(await self.partitions_for(topic))
        return [
            _partition_of(key.encode() if isinstance(key, str) else key, partitions) for key in keys
        ]

    async def send_batch(self, topic: str, partition: int, batch: RecordBatch) -> Delivery:
        """Publish ``batch`` to ``partition`` and wait until the broker has acknowledged it;
        the delivery of its first record. All of it is written, or none.

        A batch is queued for its partition only when no other is waiting there, and aiokafka
        sends a partition's batches one at a time, putting a retried one back at the head of
        the queue: batches sent one after another (each awaited) land in that order.
        """
        if self._client is None:
            raise RuntimeError("Producer.send_batch() before start()")
        builder = batch._builder
        builder.close()  # so send() never adds records of its own to it
        future = await self._client.send_batch(builder, topic, partition=partition)
        metadata = await future
        return Delivery(metadata.topic, metadata.partition, metadata.offset)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def send(
        self,
        topic: str,
        value: Payload,
        *,
        key: str | bytes | None = None,
        headers: Headers | None = None,
        partition: int | None = None,
    ) -> Delivery:
        """Publish one record and wait until the broker has acknowledged it.

        Bytes are sent as they are; mappings and pydantic models as JSON (see :func:`dumps`).
        A ``traceparent`` header is added unless ``headers`` already holds one. Without
        ``partition`` the key picks it (Kafka's default partitioner).
        """
        if self._client is None:
            raise RuntimeError("Producer.send() before start()")
        metadata = await self._client.send_and_wait(
            topic,
            value=encode_payload(value),
            key=key.encode() if isinstance(key, str) else key,
            headers=encode_headers(headers),
            partition=partition,
        )
        return Delivery(metadata.topic, metadata.partition, metadata.offset)


@lru_cache(maxsize=65_536)
def _partition_of(key: bytes, partitions: tuple[int, ...]) -> int:
    # murmur2 is pure Python in aiokafka: a few microseconds a key, and keys repeat.
    return int(DefaultPartitioner()(key, list(partitions), list(partitions)))
