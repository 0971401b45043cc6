"""Publishing to Kafka: JSON encoding, trace headers and an acks=all producer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from pydantic import BaseModel

from canopy_common.kafka_security import client_security
from canopy_common.lifecycle import StartStop
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


class Producer(StartStop):
    """An aiokafka producer with Canopy's settings, JSON values and trace headers.

    ``acks=all`` always; ``enable_idempotence`` follows the settings (on by default). Use it
    as ``async with Producer(settings) as p:`` or call :meth:`start` and :meth:`stop` from a
    lifespan.
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
            **client_security(self._settings),
        )
        try:
            await client.start()
        except BaseException:
            await client.stop()
            raise
        self._client = client

    @property
    def delivery_timeout_s(self) -> float:
        """How long a caller waits for the broker's acknowledgement (the request timeout).

        The idempotent producer itself retries a batch until the broker takes it, however long
        the broker is away; a caller gives up after this with a ``KafkaTimeoutError``
        (transient: retried by consumers, 503 over HTTP). The record may still be written
        later, so a retry may write it twice: consumers drop the copy by its activity id.
        """
        return self._settings.request_timeout_ms / 1000

    async def stop(self) -> None:
        """Deliver what is pending and disconnect; safe to call twice.

        Waits :attr:`delivery_timeout_s` for the broker's acknowledgements; then the produce
        requests still in flight get up to the request timeout again to end, records still
        unacknowledged fail with ``KafkaTimeoutError`` (their senders see it) and the producer
        closes anyway, its connections too.
        """
        client, self._client = self._client, None
        if client is None:
            return
        stopping = asyncio.ensure_future(client.stop())
        done, _ = await asyncio.wait({stopping}, timeout=self.delivery_timeout_s)
        if not done:
            # The sender first, the records after. Failed under a request in flight (a broker
            # just gone), a batch makes aiokafka's sender re-enqueue what it no longer holds
            # (KeyError), and its stop() then ends without closing the connections. A
            # cancelled sender lets its requests end, and stop() goes on to close them.
            client._sender.sender_task.cancel()
            await asyncio.wait({stopping})
            _fail_unacknowledged(client._message_accumulator)
        await stopping

    async def ping(self) -> None:
        """Ask the broker for cluster metadata: raises when it cannot answer (for ``/readyz``)."""
        if self._client is None:
            raise _not_connected()
        await self._client.client.fetch_all_metadata()

    async def partitions_for(self, topic: str) -> list[int]:
        """The topic's partition numbers, in order (from cached cluster metadata)."""
        if self._client is None:
            raise _not_connected()
        return sorted(await self._client.partitions_for(topic))

    async def partitions_of(self, topic: str, keys: Iterable[str | bytes]) -> list[int]:
        """The partitions :meth:`send` puts records with ``keys`` on (Kafka's default
        partitioner: murmur2 of the key over the topic's partitions)."""
        partitions = tuple(await self.partitions_for(topic))
        return [
            _partition_of(key.encode() if isinstance(key, str) else key, partitions) for key in keys
        ]

    async def restart(self) -> None:
        """Stop and start again: a new producer id, whose sequence numbers start afresh.

        After a batch failed for good the broker refuses every later batch of this producer to
        that partition (a gap in its sequence); a restart is how a publisher goes on.
        """
        await self.stop()
        await self.start()

    async def enqueue_batch(
        self, topic: str, partition: int, batch: RecordBatch
    ) -> asyncio.Future[Delivery]:
        """Hand ``batch`` to the producer for ``partition`` and return without waiting for the
        broker; await the returned future for its delivery (of its first record).

        The batch is written whole or not at all. Batches enqueued one after another for a
        partition are written in that order: aiokafka sends a partition's batches one at a
        time, and the idempotent producer numbers them, so a retried batch is neither written
        twice nor overtaken, and after a batch fails for good the broker refuses the ones
        behind it (see :meth:`restart`). Waits only while the partition's previous batch is
        still queued.
        """
        if self._client is None:
            raise _not_connected()
        builder = batch._builder
        builder.close()  # so send() never adds records of its own to it
        sent = await self._client.send_batch(builder, topic, partition=partition)
        delivery = asyncio.ensure_future(_acknowledged(sent, self.delivery_timeout_s))
        delivery.add_done_callback(_retrieve)  # a caller that gave up need not look at it
        return delivery

    async def send_batch(self, topic: str, partition: int, batch: RecordBatch) -> Delivery:
        """Publish ``batch`` to ``partition`` and wait until the broker has acknowledged it
        (:meth:`enqueue_batch`, then its delivery)."""
        return await (await self.enqueue_batch(topic, partition, batch))

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
            raise _not_connected()
        sent = await self._client.send(
            topic,
            value=encode_payload(value),
            key=key.encode() if isinstance(key, str) else key,
            headers=encode_headers(headers),
            partition=partition,
        )
        return await _acknowledged(sent, self.delivery_timeout_s)


async def _acknowledged(sent: asyncio.Future[Any], timeout_s: float) -> Delivery:
    """The delivery of ``sent``, or ``KafkaTimeoutError`` after ``timeout_s`` (the record stays
    with the producer, which may still write it)."""
    sent.add_done_callback(_retrieve)  # also when the caller has given up on it
    try:
        metadata = await asyncio.wait_for(asyncio.shield(sent), timeout_s)
    except TimeoutError:
        raise KafkaTimeoutError(f"no acknowledgement from the broker in {timeout_s:g} s") from None
    return Delivery(metadata.topic, metadata.partition, metadata.offset)


def _not_connected() -> KafkaConnectionError:
    # Transient, like a broker gone away: a service that starts before its broker answers
    # serves 503s and retries its records until the connection is made.
    return KafkaConnectionError("not connected to the broker (yet)")


def _fail_unacknowledged(accumulator: Any) -> None:
    """Fail every batch still in aiokafka's ``accumulator`` once its sender has stopped."""
    # A batch a request took and gave back (re-enqueued, to be retried) is no longer among
    # the pending ones, though a callback of its first drain removes it from there when it
    # ends: put it back, or that callback raises.
    queued = [batch for batches in accumulator._batches.values() for batch in batches]
    accumulator._pending_batches.update(b for b in queued if b._retry_count > 0)
    accumulator.fail_all(KafkaTimeoutError("the producer stopped before the broker acknowledged"))
    for batch in (*queued, *accumulator._pending_batches):
        for future in (batch.future, batch._drain_waiter):  # nobody else may look at them
            _retrieve(future)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


@lru_cache(maxsize=65_536)
def _partition_of(key: bytes, partitions: tuple[int, ...]) -> int:
    # murmur2 is pure Python in aiokafka: a few microseconds a key, and keys repeat.
    return int(DefaultPartitioner()(key, list(partitions), list(partitions)))
