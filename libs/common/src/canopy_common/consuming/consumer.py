"""The aiokafka consumer loop every Canopy service runs: commit after success, retry outages,
DLQ poison (docs/architecture.md §9).

A :class:`Consumer` fetches a batch, runs the handler on each record in order and commits the
offsets of the records it is done with after the batch (and when partitions are revoked, and
on stop); a record is never committed before its handler succeeded. A transient failure
(:func:`~canopy_common.transient.is_transient`) pauses consumption and is retried with backoff;
when the retries run out the partition is rewound and stays paused for
``retry_backoff_max_ms``, then everything starts again: never dead-lettered, never committed
before success. Anything else is poison: dead-lettered with headers saying why, and the
partition moves on.

The steps live in :mod:`~canopy_common.consuming.steps` and
:mod:`~canopy_common.consuming.dead_letters`, the offsets in
:mod:`~canopy_common.consuming.offsets`, the topics' upkeep in
:mod:`~canopy_common.consuming.subscription`; this module is the loop: fetch, batch then one
by one, pause, rewind, rebalance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from canopy_common.consuming.dead_letters import (
    DeadLetters,
    apply_or_dead_letter,
    dead_letter_rejected,
)
from canopy_common.consuming.metrics import Outcome, consumer_metrics
from canopy_common.consuming.offsets import Offsets
from canopy_common.consuming.records import (
    BatchHandler,
    Handler,
    consumed_record,
    where,
)
from canopy_common.consuming.steps import GaveUp, retry_transient
from canopy_common.consuming.subscription import Subscription
from canopy_common.kafka_producer import Producer
from canopy_common.kafka_security import client_security
from canopy_common.loops import BackgroundLoop, backoff_s
from canopy_common.settings import KafkaSettings
from canopy_common.tracing import TRACEPARENT_HEADER, continue_trace, trace_id_of, use_traceparent
from canopy_common.transient import is_transient

log = structlog.get_logger(__name__)

# How long one getmany() waits for records; bounds how late stop() and un-pausing are noticed.
POLL_TIMEOUT_MS = 500


# How much longer than a request a commit may wait (see Consumer.__init__).
_COMMIT_GRACE_S = 5.0


class Consumer(BackgroundLoop):
    """Consume ``topics`` as ``group_id`` and run ``handler`` on every record, at least once.

    :meth:`start` returns at once and consumes in a background task (connecting with backoff
    while the broker is unreachable); :meth:`stop` finishes the record in flight, commits and
    closes. :attr:`assigned` tells ``/readyz`` whether the group has been joined.

    The DLQ producer is ``producer`` if given (it must be started and outlive the
    consumer), otherwise one the consumer owns. The group's session timeout and heartbeat are
    the settings' (see :class:`KafkaSettings`). It reads only committed records
    (``read_committed``): nothing Canopy publishes is transactional (docs/kafka.md), so this
    costs nothing today and keeps an aborted write of any future producer out.

    ``batch_handler`` gets one partition's fetched records at a time, or with
    ``whole_fetch`` every partition's records of a fetch in one call (each partition's in
    order): fewer, larger transactions. If that call fails, the partitions are tried one by
    one, then record by record.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        service: str,
        group_id: str,
        topics: Sequence[str],
        handler: Handler,
        batch_handler: BatchHandler | None = None,
        whole_fetch: bool = False,
        producer: Producer | None = None,
        auto_offset_reset: Literal["earliest", "latest"] = "earliest",
    ) -> None:
        if not topics:
            raise ValueError("a Consumer needs at least one topic")
        self._settings = settings
        self._group_id = group_id
        self._topics = list(topics)
        self._handler = handler
        self._batch_handler = batch_handler
        self._whole_fetch = whole_fetch
        self._owns_producer = producer is None
        self._producer = producer or Producer(
            settings, client_id=f"{settings.client_id}-{service}-dlq"
        )
        self._dead_letters = DeadLetters(self._producer, topic=settings.topic_dlq, group=group_id)
        self._client_options: dict[str, Any] = {
            "bootstrap_servers": settings.bootstrap_servers,
            "client_id": f"{settings.client_id}-{service}",
            "group_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": auto_offset_reset,
            "request_timeout_ms": settings.request_timeout_ms,
            "fetch_max_wait_ms": settings.fetch_max_wait_ms,
            "session_timeout_ms": settings.session_timeout_ms,
            "heartbeat_interval_ms": settings.heartbeat_interval_ms,
            "isolation_level": "read_committed",
            **client_security(settings),
        }
        super().__init__()
        self.task_name = f"consumer:{group_id}"
        self._metrics = consumer_metrics(service)
        self._client: Any = None
        # Held while a batch is processed and while revoked partitions are committed, so a
        # revoke never sees half-updated offsets and never loses processed ones.
        self._lock = asyncio.Lock()
        # _wake (BackgroundLoop) also interrupts backoff sleeps on revoke.
        self._revoke_pending = False
        self._generation = 0  # bumped on every revoke; a batch fetched before it is stale
        self._joined = False
        self._paused_until: float | None = None
        self._offsets = Offsets()
        # A little longer than the commit request's own timeout, so it usually ends first; the
        # grace bounds the wait for a coordinator that never comes (Offsets.commit).
        self._commit_timeout_s = settings.request_timeout_ms / 1000 + _COMMIT_GRACE_S
        self._subscription = Subscription(
            self._topics, self._on_revoked, self._on_assigned, self._commit_timeout_s, group_id
        )

    @property
    def topics(self) -> list[str]:
        """The topics this consumer subscribes to."""
        return list(self._topics)

    @property
    def group_id(self) -> str:
        """The consumer group it belongs to."""
        return self._group_id

    @property
    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member holds now."""
        if self._client is None:
            return set()
        return {(tp.topic, tp.partition) for tp in self._client.assignment()}

    @property
    def assigned(self) -> bool:
        """Whether the consumer runs and has joined its group (possibly with no partitions)."""
        return self._joined and self._client is not None and not self._stopping.is_set()

    @property
    def problems(self) -> list[str]:
        """What keeps it from its job although it joined its group (for ``/readyz``)."""
        return self._subscription.problems(commit_failures=self._offsets.failures)

    async def stop(self) -> None:
        """Stop fetching, finish the record in flight, commit and close; safe to call twice."""
        await super().stop()

    async def run(self) -> None:
        """Consume until :meth:`stop`, in the foreground (``start`` runs this in a task).

        Raises only what cannot be retried (e.g. an authorization error), after closing.
        """
        client = await self._connect()
        if client is None:
            return
        try:
            while not self._stopping.is_set():
                await self._poll(client)
        except Exception:
            log.exception("consumer crashed", group=self._group_id, topics=self._topics)
            raise
        finally:
            await self._close(client)

    # -- lifecycle ------------------------------------------------------------------------

    async def _connect(self) -> Any:
        attempt = 0
        while not self._stopping.is_set():
            client = AIOKafkaConsumer(**self._client_options)
            try:
                if self._owns_producer:
                    await self._producer.start()
                await client.start()
            except Exception as exc:
                await client.stop()
                if not is_transient(exc):
                    await self._stop_owned_producer()
                    raise
                attempt += 1
                delay = self._backoff_s(attempt)
                log.warning("broker unreachable, retrying", error=repr(exc), retry_in_s=delay)
                await self._sleep(delay)
                continue
            # Subscribing after start() lets start() return before the group join completes.
            self._subscription.subscribe(client)
            self._client = client
            return client
        await self._stop_owned_producer()
        return None

    async def _close(self, client: Any) -> None:
        try:
            async with self._lock:
                await self._offsets.commit(client, timeout_s=self._commit_timeout_s)
                for tp in self._offsets.partitions():
                    self._metrics.lag.forget(tp.topic, tp.partition)
                self._offsets.clear()
        finally:
            self._joined = False
            self._client = None
            await client.stop()
            await self._stop_owned_producer()

    async def _stop_owned_producer(self) -> None:
        if self._owns_producer:
            await self._producer.stop()

    # -- the loop -------------------------------------------------------------------------

    async def _poll(self, client: Any) -> None:
        await self._subscription.watch(client)
        if self._offsets.failures:  # done offsets wait for a commit that failed: try again
            async with self._lock:
                await self._offsets.commit(client, timeout_s=self._commit_timeout_s)
        timeout_ms = POLL_TIMEOUT_MS
        if self._paused_until is not None:
            remaining_ms = (self._paused_until - time.monotonic()) * 1000
            if remaining_ms <= 0:
                self._paused_until = None
                client.resume(*client.assignment())
                log.info("resuming consumption after transient failures")
            else:
                timeout_ms = min(timeout_ms, int(remaining_ms) + 1)
        generation = self._generation
        try:
            batch = await client.getmany(
                timeout_ms=timeout_ms, max_records=self._settings.max_batch_records
            )
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("fetch failed, retrying", error=repr(exc))
            await self._sleep(self._backoff_s(1))
            return
        if not batch:
            return
        async with self._lock:
            if generation != self._generation:
                # Partitions were revoked while fetching: fetch again from the new positions.
                self._rewind(client, {tp: records[0].offset for tp, records in batch.items()})
                return
            next_offsets = await self._process_batch(client, batch)
            await self._offsets.commit(client, timeout_s=self._commit_timeout_s)
            for tp, offset in next_offsets.items():
                highwater = client.highwater(tp)
                if highwater is not None:
                    self._metrics.lag.set(tp.topic, tp.partition, highwater - offset)

    async def _process_batch(
        self, client: Any, batch: Mapping[TopicPartition, Sequence[Any]]
    ) -> dict[TopicPartition, int]:
        """Handle the batch in order; return the next offset to process per partition."""
        next_offsets = {tp: records[0].offset for tp, records in batch.items()}
        every = [raw for records in batch.values() for raw in records]
        if self._whole_fetch and len(batch) > 1 and await self._process_together(every):
            for tp, records in batch.items():
                next_offsets[tp] = records[-1].offset + 1
                self._offsets.mark_done(tp, next_offsets[tp])
            return next_offsets
        unfinished = dict(next_offsets)
        for tp, records in batch.items():
            if await self._process_together(records):
                next_offsets[tp] = records[-1].offset + 1
                self._offsets.mark_done(tp, next_offsets[tp])
                del unfinished[tp]
                continue
            for raw in records:
                if self._interrupted():
                    # Stop or revoke: leave the rest of the batch for the next fetch or owner.
                    self._rewind(client, unfinished)
                    return next_offsets
                if not await self._process(client, raw):
                    self._rewind(client, unfinished)
                    if not self._interrupted():
                        self._pause_after_retries(client)
                    return next_offsets
                next_offsets[tp] = unfinished[tp] = raw.offset + 1
                self._offsets.mark_done(tp, raw.offset + 1)
            del unfinished[tp]
        return next_offsets

    async def _process_together(self, records: Sequence[Any]) -> bool:
        """Try the batch handler on a partition's records; False: process them one by one."""
        if self._batch_handler is None or len(records) < 2 or self._interrupted():
            return False
        consumed = [consumed_record(raw) for raw in records]
        try:
            rejected = await self._batch_handler(consumed) or ()
            # After the batch's commit: a DLQ that cannot be reached sends the batch back to
            # record by record, where the applied records are no-ops.
            await dead_letter_rejected(rejected, self._dead_letters)
        except Exception as exc:
            log.info(
                "batch failed, handling its records one by one",
                topic=consumed[0].topic,
                partition=consumed[0].partition,
                records=len(consumed),
                error_class=type(exc).__name__,
                transient=is_transient(exc),
            )
            return False
        refused_at = {(r.record.partition, r.record.offset) for r in rejected}
        for record in consumed:
            dead = (record.partition, record.offset) in refused_at
            self._count(record.topic, "dead_lettered" if dead else "processed")
        return True

    async def _process(self, client: Any, raw: Any) -> bool:
        """Run the handler on one record, retrying transient failures.

        True once the record is done with (handled or dead-lettered); False when transient
        failures outlasted the retries or a stop/revoke interrupted them.
        """
        record = consumed_record(raw)
        traceparent = continue_trace(record.headers.get(TRACEPARENT_HEADER))
        failed = False

        def on_retry(failures: int) -> None:
            nonlocal failed
            failed = True
            self._count(record.topic, "retried")
            client.pause(*client.assignment())

        with (
            use_traceparent(traceparent),
            structlog.contextvars.bound_contextvars(trace_id=trace_id_of(traceparent)),
        ):
            try:
                outcome = await retry_transient(
                    lambda: apply_or_dead_letter(
                        self._handler,
                        record,
                        self._dead_letters,
                        null_value=raw.value is None,
                        on_failure=lambda: self._count(record.topic, "failed"),
                    ),
                    backoff_s=self._backoff_s,
                    wait=self._sleep,
                    gives_up=lambda failures: (
                        failures > self._settings.max_retries or self._interrupted()
                    ),
                    on_retry=on_retry,
                    context=where(record),
                )
            except GaveUp:
                failed = True
                self._count(record.topic, "retried")
                return False
            finally:
                if failed:
                    client.resume(*client.assignment())
            self._count(record.topic, outcome)
            return True

    def _pause_after_retries(self, client: Any) -> None:
        pause_s = self._settings.retry_backoff_max_ms / 1000
        log.error(
            "transient failures persist; pausing consumption",
            group=self._group_id,
            pause_s=pause_s,
        )
        client.pause(*client.assignment())
        self._paused_until = time.monotonic() + pause_s

    # -- rebalance ------------------------------------------------------------------------

    async def _on_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._revoke_pending = True
        self._wake.set()
        try:
            async with self._lock:
                self._generation += 1
                if self._client is not None:
                    await self._offsets.commit(self._client, timeout_s=self._commit_timeout_s)
                revoked = list(revoked)
                self._offsets.forget(revoked)
                for tp in revoked:
                    self._metrics.lag.forget(tp.topic, tp.partition)
                # A new assignment starts unpaused, from the committed offsets.
                self._paused_until = None
        finally:
            self._revoke_pending = False
            if not self._stopping.is_set():
                self._wake.clear()

    async def _on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._joined = True
        log.info(
            "partitions assigned",
            group=self._group_id,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
        )

    # -- small parts ----------------------------------------------------------------------

    def _interrupted(self) -> bool:
        return self._stopping.is_set() or self._revoke_pending

    def _rewind(self, client: Any, offsets: Mapping[TopicPartition, int]) -> None:
        """Seek back to records fetched but not done with, so they are fetched again."""
        assignment = client.assignment()
        for tp, offset in offsets.items():
            if tp in assignment:
                client.seek(tp, offset)

    def _backoff_s(self, attempt: int) -> float:
        return backoff_s(self._settings, attempt)

    def _count(self, topic: str, outcome: Outcome) -> None:
        self._metrics.count(topic, outcome)
