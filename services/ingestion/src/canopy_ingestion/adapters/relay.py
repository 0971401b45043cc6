"""The outbox relay: outbox rows to the activities topic (or the topic a row names: an export
request), in order per key, at least once.

One pass (:meth:`OutboxRelay.publish_pending`) is one transaction:

1. Claim up to ``relay_buckets_per_claim`` buckets holding unsent rows, ``FOR UPDATE SKIP
   LOCKED`` on ``outbox_buckets``. All of a key's rows share a bucket, so while one pass holds
   it no other pass (of this relay or another) touches that key; passes side by side split
   the buckets between them.
2. Read the oldest unsent rows of those buckets in ``seq`` order (at most
   ``relay_batch_size``): for every key, a prefix of its unsent rows.
3. Publish them keyed ``tenant:actor`` with their stored headers (``traceparent``) and their
   stored bytes as the value: the rows of each partition, in ``seq`` order, as Kafka record
   batches of up to ``relay_max_batch_bytes``, all handed to the producer at once, the
   partitions side by side.
4. Mark the acknowledged rows sent (one statement), commit.

The order of a key: its rows go to one partition (the key picks it), in ``seq`` order inside a
batch and batch after batch. The relay does not wait for one batch's acknowledgement before
handing over the next: the idempotent producer keeps them in order (``Producer.enqueue_batch``).
It numbers a partition's batches; a retried batch is neither written twice nor overtaken, and
once a batch fails for good (say it expired while its partition had no leader) the broker
refuses every later one of that partition, whose sequence now has a gap. So the acknowledged
rows of a partition are always a prefix of what was handed over, and only that prefix is
marked sent. After a failed pass the relay restarts its producer (a new producer id, so the
refused partition can be written again) and backs off.

Failures: the acknowledged rows are still marked, the rest stay unsent, and the relay backs off
(the Kafka settings' ``retry_backoff_*``) and tries again, for as long as it takes: no row is
ever skipped. A crash between publishing and committing publishes rows again; the copies carry
the same activity id, and consumers drop them (at-least-once). docs/kafka.md says why this is
not a Kafka transaction.

``seq`` is drawn at insert, not at commit, so two concurrent transactions of one key may become
visible out of ``seq`` order; they were concurrent, so neither order is wrong. A change that
depends on an earlier one (an edit of a post) reads it after its commit, so it gets a larger
``seq`` and is never visible without it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from prometheus_client import Counter, Gauge, Histogram

from canopy_common.db import Connection
from canopy_common.kafka import Delivery, Producer, RecordBatch
from canopy_common.loops import BackgroundLoop, backoff_s
from canopy_common.metrics import (
    get_or_create_counter,
    get_or_create_gauge,
    get_or_create_histogram,
    metric_name,
)
from canopy_common.pg_listen import Listener
from canopy_common.row_security import span_all_tenants
from canopy_common.service import Runtime
from canopy_common.transient import is_transient
from canopy_ingestion.adapters.outbox import NOTIFY_CHANNEL
from canopy_ingestion.settings import Settings

log = structlog.get_logger(__name__)

SERVICE = "ingestion"
# Sent rows deleted per statement: short transactions; one chunk per pass while more are due.
PRUNE_CHUNK_ROWS = 10_000
# From an activity's commit to its acknowledgement: milliseconds normally, hours after an outage.
LAG_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

# EXISTS probes the partial index once per bucket (64 in all), however long the backlog.
_CLAIM = """
SELECT b.bucket FROM outbox_buckets b
WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.bucket = b.bucket AND o.sent_at IS NULL)
ORDER BY random()
LIMIT $1
FOR UPDATE OF b SKIP LOCKED
"""
# The oldest unsent rows of each claimed bucket (an index range each), then the oldest of
# those: reads at most buckets x batch index entries and batch payloads, however long the backlog.
_OLDEST_UNSENT = """
WITH picked AS (
    SELECT o.seq
    FROM unnest($1::int[]) AS claimed (bucket)
    CROSS JOIN LATERAL (
        SELECT seq FROM outbox
        WHERE bucket = claimed.bucket AND sent_at IS NULL
        ORDER BY seq
        LIMIT $2
    ) AS o
    ORDER BY o.seq
    LIMIT $2
)
SELECT seq, key, payload, headers, topic FROM outbox
WHERE seq IN (SELECT seq FROM picked)
ORDER BY seq
"""
_MARK_SENT = """
UPDATE outbox SET sent_at = clock_timestamp() WHERE seq = ANY($1::bigint[])
RETURNING extract(epoch FROM sent_at - created_at)::float8 AS lag_s
"""
_Row = asyncpg.Record
_BACKLOG = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
_PRUNE = """
DELETE FROM outbox WHERE seq IN (
    SELECT seq FROM outbox
    WHERE sent_at < now() - make_interval(secs => $1)
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
"""


@dataclass(frozen=True, slots=True)
class RelayMetrics:
    """Prometheus series of the outbox relay (shared by every relay of the process)."""

    backlog: Gauge
    published: Counter
    lag: Histogram


def relay_metrics(service: str = SERVICE) -> RelayMetrics:
    """``canopy_<service>_outbox_backlog_records`` (unsent rows, all relays together),
    ``..._outbox_published_total`` and ``..._outbox_publish_lag_seconds`` (commit to ack)."""
    return RelayMetrics(
        backlog=get_or_create_gauge(
            metric_name(service, "outbox_backlog_records"), "Outbox rows not yet published."
        ),
        published=get_or_create_counter(
            metric_name(service, "outbox_published_total"),
            "Outbox rows published and marked sent.",
        ),
        lag=get_or_create_histogram(
            metric_name(service, "outbox_publish_lag_seconds"),
            "Time from an outbox row's insert to its acknowledgement by the broker.",
            buckets=LAG_BUCKETS_S,
        ),
    )


class OutboxRelay(BackgroundLoop):
    """Publishes the outbox of one schema to ``settings.kafka.topic_activities``, or to the
    topic a row names (see the module docstring for the claims, the order and the failure
    handling).

    :meth:`start` returns at once and relays in a background task that wakes on ``NOTIFY
    ingestion_outbox`` (a connection of its own, reopened when it drops) and every
    ``relay_poll_interval_s``; :meth:`stop` finishes the batch in flight, then returns.
    """

    task_name = "outbox-relay"

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        producer: Producer,
        settings: Settings,
        *,
        service: str = SERVICE,
        owns_producer: bool = False,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._owns_producer = owns_producer  # then stopped when the relay stops
        self._settings = settings
        self._topic = settings.kafka.topic_activities
        super().__init__()  # _wake is also set by NOTIFY
        self._metrics = relay_metrics(service)
        self._listener = Listener(
            settings.postgres.dsn, NOTIFY_CHANNEL, self._wake, name="outbox relay"
        )
        self._healthy = False  # the last pass succeeded
        self._next_prune_at = 0.0
        self._backlog_at: float | None = None

    @property
    def ready(self) -> bool:
        """Running, and its last pass published what it claimed."""
        return self.running and self._healthy

    async def stop(self) -> None:
        """Finish the batch in flight, close the listener and return; safe to call twice."""
        await super().stop()

    async def run(self) -> None:
        """Relay until :meth:`stop`: passes whenever woken, polled or behind."""
        failures = 0
        try:
            while not self._stopping.is_set():
                self._wake.clear()  # before the passes: a NOTIFY during them means more
                await self._listener.ensure()
                try:
                    behind = await self._round()
                except Exception as exc:
                    failures += 1
                    self._healthy = False
                    await self._after_failure(exc, failures)
                    continue
                failures = 0
                self._healthy = True
                if not behind:
                    await self._sleep(self._settings.relay_poll_interval_s)
        finally:
            self._healthy = False
            await self._listener.close()
            if self._owns_producer:
                await self._producer.stop()

    @contextlib.asynccontextmanager
    async def _every_tenant(self) -> AsyncIterator[Connection]:
        """A transaction over every tenant's outbox rows: the relay serves them all
        (row-level security, docs/architecture.md §15)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await span_all_tenants(conn)
            yield conn

    async def publish_pending(self) -> tuple[int, bool]:
        """One pass: publish a batch of unsent rows and mark them sent.

        Returns how many rows were published and whether more may be waiting. Raises the first
        publishing error after committing what was acknowledged before it.
        """
        settings = self._settings
        async with self._every_tenant() as conn:
            claimed = await conn.fetch(_CLAIM, settings.relay_buckets_per_claim)
            if not claimed:
                return 0, False
            buckets = [row["bucket"] for row in claimed]
            rows = await conn.fetch(_OLDEST_UNSENT, buckets, settings.relay_batch_size)
            acked, error = await self._publish(rows)
            lags = await conn.fetch(_MARK_SENT, acked) if acked else []
        self._metrics.published.inc(len(acked))
        for row in lags:
            self._metrics.lag.observe(max(row["lag_s"], 0.0))
        if error is not None:
            raise error
        behind = len(rows) == settings.relay_batch_size
        return len(acked), behind or len(buckets) == settings.relay_buckets_per_claim

    async def _publish(self, rows: Sequence[_Row]) -> tuple[list[int], BaseException | None]:
        """Publish ``rows`` (in ``seq`` order) partition by partition, every batch handed over
        at once (see the module docstring); the seqs acknowledged, and the first error."""
        by_topic: dict[str, list[_Row]] = {}
        for row in rows:  # in seq order within each topic
            by_topic.setdefault(row["topic"] or self._topic, []).append(row)
        chains: dict[tuple[str, int], list[_Row]] = {}
        for topic, topic_rows in by_topic.items():
            keys = [r["key"] for r in topic_rows]
            partitions = await self._producer.partitions_of(topic, keys)
            for partition, row in zip(partitions, topic_rows, strict=True):
                chains.setdefault((topic, partition), []).append(row)
        acked: list[int] = []

        async def publish_chain(where: tuple[str, int], chain: list[_Row]) -> None:
            topic, partition = where
            handed: list[tuple[asyncio.Future[Delivery], list[int]]] = []
            refused: BaseException | None = None
            try:
                for batch, seqs in self._batches(chain):
                    delivery = await self._producer.enqueue_batch(topic, partition, batch)
                    handed.append((delivery, seqs))
            except Exception as exc:  # nothing behind it was handed over
                refused = exc
            for delivery, seqs in handed:  # acknowledged in order: stop at the first failure
                await delivery  # bounded by the producer's delivery timeout
                acked.extend(seqs)
            if refused is not None:
                raise refused

        outcomes = await asyncio.gather(
            *(publish_chain(where, chain) for where, chain in chains.items()),
            return_exceptions=True,
        )
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        return acked, errors[0] if errors else None

    def _batches(self, chain: list[_Row]) -> Iterator[tuple[RecordBatch, list[int]]]:
        """The rows of ``chain`` as record batches of at most ``relay_max_batch_bytes``."""
        start = 0
        while start < len(chain):
            batch = RecordBatch(self._settings.relay_max_batch_bytes)
            end = start
            while end < len(chain) and batch.append(
                chain[end]["payload"], key=chain[end]["key"].encode(), headers=chain[end]["headers"]
            ):
                end += 1
            yield batch, [row["seq"] for row in chain[start:end]]
            start = end

    async def _round(self) -> bool:
        """``relay_concurrency`` passes side by side (each claims buckets of its own), then
        the upkeep; whether any of them is behind."""
        await self._producer.start()  # a no-op once started; raises while the broker is away
        outcomes = await asyncio.gather(
            *(self.publish_pending() for _ in range(self._settings.relay_concurrency)),
            return_exceptions=True,
        )
        behind = False
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            behind = behind or outcome[1]
        await self._prune_if_due()
        await self._refresh_backlog(force=not behind)
        return behind

    async def _after_failure(self, exc: Exception, failures: int) -> None:
        delay_s = backoff_s(self._settings.kafka, failures)
        with contextlib.suppress(Exception):  # started again by the next round
            await self._producer.stop()  # a new producer id next time: see the module doc
        (log.warning if is_transient(exc) else log.error)(
            "outbox relay: pass failed, unsent rows stay queued; retrying",
            error=f"{type(exc).__name__}: {exc}",
            failures=failures,
            backoff_s=round(delay_s, 3),
        )
        with contextlib.suppress(Exception):  # Postgres may be what is down
            await self._refresh_backlog(force=False)
        await self._sleep(delay_s, wake_on=self._stopping)  # NOTIFYs do not cut a backoff

    async def _prune_if_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_prune_at:
            return
        async with self._every_tenant() as conn:
            status = await conn.execute(_PRUNE, self._settings.relay_retention_s, PRUNE_CHUNK_ROWS)
        deleted = int(status.split()[-1])
        if deleted < PRUNE_CHUNK_ROWS:  # caught up: wait for the next interval
            self._next_prune_at = now + self._settings.relay_prune_interval_s
        if deleted:
            log.info("outbox relay: pruned sent rows", rows=deleted)

    async def _refresh_backlog(self, *, force: bool) -> None:
        """Count the unsent rows (the partial index); at most once per poll interval unless
        ``force``d (going idle, when the count is small)."""
        now = asyncio.get_running_loop().time()
        due = self._backlog_at is None or now - self._backlog_at >= (
            self._settings.relay_poll_interval_s
        )
        if force or due:
            async with self._every_tenant() as conn:
                self._metrics.backlog.set(await conn.fetchval(_BACKLOG))
            self._backlog_at = now


def outbox_relay(runtime: Runtime[Settings]) -> OutboxRelay:
    """The relay of a running ingestion service: a worker of its ``ServiceDefinition``."""
    settings = runtime.settings
    # A producer of its own: the relay restarts it after a failed pass (the module docstring).
    producer = Producer(settings.kafka, client_id=f"{settings.kafka.client_id}-outbox")
    return OutboxRelay(runtime.pool, producer, settings, owns_producer=True)
