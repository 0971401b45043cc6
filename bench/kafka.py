"""``kafka``: the producer's send rates and the consumer loop's throughput, on the real broker.

Everything runs on topics and consumer groups of its own (a uuid suffix), deleted at the end:

- ``kafka.produce.sequential``: ``Producer.send`` awaited one record at a time (acks=all), the
  way a handler that publishes as it goes behaves;
- ``kafka.produce.concurrent.w100``: windows of 100 sends in flight together
  (``asyncio.gather``), the way a relay draining a backlog behaves; these records are the
  consumers' backlog. ``.w1000`` does the same 1,000 at a time, which is slower;
- ``kafka.consume.noop``: :class:`~canopy_common.kafka.Consumer` with a handler that does
  nothing, from the first record handled to the last one committed: the loop's own ceiling;
- ``kafka.consume.inbox``: the same with :func:`~canopy_common.inbox.activity_handler`
  (strict decode + one Postgres transaction per record) against a throwaway schema, which
  shows the per-record database commit cost every idempotent consumer pays.

Joining the group is timed apart (``*.assignment``) and left out of the rates.
``kafka.produce.concurrent.w100`` and each consumer run also give the CPU they cost, in µs per
record (:mod:`bench.cpu`): ``.cpu.client`` this process's (the bench runs nothing else
meanwhile), ``.cpu.broker`` the broker's when it is a local process. :mod:`bench.kafka_ceiling`
measures the same for Kafka's own perf tools.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.activities import team_post
from bench.cpu import broker_pid, own_times, per_record
from bench.figures import Figure, JSONScalar, rate
from bench.harness import BenchContext, Benchmark
from canopy_common.db import (
    apply_migrations,
    close_pool,
    create_pool,
    load_migrations,
    quote_schema,
)
from canopy_common.events import encode, new_activity_id
from canopy_common.inbox import activity_handler
from canopy_common.kafka import ConsumedRecord, Consumer, Handler, Producer, ensure_topics
from canopy_common.kafka_security import client_security
from canopy_common.settings import KafkaSettings, PostgresSettings
from canopy_testing.factories import ActivityFactory, user_id_of_subject

log = structlog.get_logger(__name__)

SERVICE: Final = "bench"
PARTITIONS: Final = 3  # a few, so the consumer interleaves partitions as in production
SEQUENTIAL_RECORDS: Final = 2_000
BACKLOG_RECORDS: Final = 20_000  # produced in windows of WINDOW, then consumed twice
# Sends in flight at once. aiokafka fills one batch per partition at a time (16 KiB: about
# seven of these posts) and every send waiting for room wakes at each drain, so windows much
# wider than ~100-200 get slower, not faster; WIDE_WINDOW shows by how much.
WINDOW: Final = 100
WIDE_WINDOW: Final = 1_000
WIDE_WINDOW_RECORDS: Final = 5_000
ACTORS: Final = 64  # distinct `tenant:actor` keys, so the records spread over every partition
PRODUCE_TIME_LIMIT_S: Final = 15.0  # per producer run
# Per consumer run, from assignment on. The inbox handler commits a Postgres transaction per
# record (~2.5-3 ms with synchronous_commit=on on a small VM): 20,000 records take 50-60 s.
CONSUME_TIME_LIMIT_S: Final = 75.0
ASSIGNMENT_TIMEOUT_S: Final = 30.0
COMMIT_TIMEOUT_S: Final = 10.0
POLL_INTERVAL_S: Final = 0.002
FANOUT_PACKAGE: Final = "canopy_fanout"  # its first migration creates consumed_activities

#: Asks the broker for a consumer group's committed offsets, by partition.
CommittedOffsets = Callable[[], Awaitable[dict[int, int]]]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce."""

    key: str
    value: bytes


def team_posts(count: int) -> list[Outgoing]:
    """``count`` encoded team posts, each with its own activity id, keyed ``tenant:actor``.

    One post is encoded and its id swapped, so building the records costs next to nothing.
    """
    factory = ActivityFactory()
    post = team_post(factory)
    template, old_id = encode(post), post.id.encode()
    keys = [f"{factory.tenant_id}:{user_id_of_subject(factory.user())}" for _ in range(ACTORS)]
    return [
        Outgoing(keys[i % ACTORS], template.replace(old_id, new_activity_id().encode(), 1))
        for i in range(count)
    ]


async def run(ctx: BenchContext) -> list[Figure]:
    """Produce (one by one, then in windows), then consume the backlog twice."""
    suffix = uuid.uuid4().hex[:10]
    settings = ctx.kafka.model_copy(
        update={
            "partitions": PARTITIONS,
            "topic_dlq": f"bench.dlq.{suffix}",
        }
    )
    scratch_topic, backlog_topic = f"bench.produce.{suffix}", f"bench.backlog.{suffix}"
    topics = [scratch_topic, backlog_topic, settings.topic_dlq]
    await ensure_topics(settings, topics)
    try:
        one_by_one = team_posts(SEQUENTIAL_RECORDS)
        wide = team_posts(WIDE_WINDOW_RECORDS)
        backlog = team_posts(BACKLOG_RECORDS)
        params: dict[str, JSONScalar] = {"bytes": len(backlog[0].value), "partitions": PARTITIONS}
        broker = broker_pid(settings.bootstrap_servers)
        async with Producer(settings, client_id=f"{settings.client_id}-bench") as producer:
            sequential = await produce_sequentially(producer, scratch_topic, one_by_one, params)
            before = own_times(broker)
            concurrent, ends = await produce_concurrently(
                producer, backlog_topic, backlog, WINDOW, params
            )
            concurrent_cpu = per_record(
                concurrent.name, own_times(broker) - before, concurrent.n, params
            )
            wide_window, _ = await produce_concurrently(
                producer, scratch_topic, wide, WIDE_WINDOW, params
            )
        figures = [sequential, concurrent, *concurrent_cpu, wide_window]
        params["batch"] = settings.max_batch_records

        async def noop(record: ConsumedRecord) -> None:
            pass

        figures += await consume(settings, backlog_topic, ends, "noop", noop, params)
        async with inbox_schema(ctx.postgres) as pool:
            sync = str(await pool.fetchval("show synchronous_commit"))
            handler = activity_handler(pool)
            inbox_params = {**params, "synchronous_commit": sync}
            figures += await consume(settings, backlog_topic, ends, "inbox", handler, inbox_params)
        return figures
    finally:
        await delete_topics(settings, topics)


# --- producing --------------------------------------------------------------------------------


async def produce_sequentially(
    producer: Producer, topic: str, records: Sequence[Outgoing], params: Mapping[str, JSONScalar]
) -> Figure:
    """Send one record at a time, each acknowledged before the next."""
    sent, start = 0, time.perf_counter()
    deadline = start + PRODUCE_TIME_LIMIT_S
    for record in records:
        if time.perf_counter() >= deadline:
            break
        await producer.send(topic, record.value, key=record.key)
        sent += 1
    elapsed = time.perf_counter() - start
    return rate("kafka.produce.sequential", sent, elapsed, "records/s", **params)


async def produce_concurrently(
    producer: Producer,
    topic: str,
    records: Sequence[Outgoing],
    window: int,
    params: Mapping[str, JSONScalar],
) -> tuple[Figure, dict[int, int]]:
    """Send ``window`` records at a time, all in flight together, awaiting each window.

    Returns the rate and the next offset of each partition: what a consumer of the whole
    topic has committed once it is done.
    """
    offsets: list[tuple[int, int]] = []
    start = time.perf_counter()
    deadline = start + PRODUCE_TIME_LIMIT_S
    for first in range(0, len(records), window):
        if time.perf_counter() >= deadline:
            break
        deliveries = await asyncio.gather(
            *(
                producer.send(topic, record.value, key=record.key)
                for record in records[first : first + window]
            )
        )
        offsets += [(delivery.partition, delivery.offset) for delivery in deliveries]
    elapsed = time.perf_counter() - start
    ends: dict[int, int] = {}
    for partition, offset in offsets:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    name = f"kafka.produce.concurrent.w{window}"
    figure = rate(name, len(offsets), elapsed, "records/s", **params, window=window)
    return figure, ends


async def delete_topics(settings: KafkaSettings, topics: Sequence[str]) -> None:
    """Delete the bench's topics: the broker may be a long-lived dev one, keeping them on disk."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-bench-admin",
        request_timeout_ms=settings.request_timeout_ms,
        **client_security(settings),
    )
    try:
        await admin.start()
        await admin.delete_topics(list(topics))
    except Exception as exc:  # never hide the figures, or the error that ended the run
        log.warning("could not delete the bench topics", topics=list(topics), error=repr(exc))
    finally:
        await admin.close()


# --- consuming --------------------------------------------------------------------------------


@dataclass(slots=True)
class Progress:
    """Counts what a consumer's handler got through, and when the first and last were."""

    expected: int
    handled: int = 0
    first_at: float | None = None
    last_at: float | None = None
    all_handled: asyncio.Event = field(default_factory=asyncio.Event)

    def counting(self, handler: Handler) -> Handler:
        """``handler``, counted."""

        async def handle(record: ConsumedRecord) -> None:
            if self.first_at is None:
                self.first_at = time.perf_counter()
            await handler(record)
            self.handled += 1
            self.last_at = time.perf_counter()
            if self.handled >= self.expected:
                self.all_handled.set()

        return handle


async def consume(
    settings: KafkaSettings,
    topic: str,
    ends: Mapping[int, int],
    name: str,
    handler: Handler,
    params: Mapping[str, JSONScalar],
) -> list[Figure]:
    """Consume ``topic`` from the start as a new group; the rate, the time to assignment and
    the CPU per record.

    The rate runs from the first record handled to the moment the broker holds the last
    offset committed. If :data:`CONSUME_TIME_LIMIT_S` runs out first, it covers the records
    handled so far (``time_limited=True``). The CPU is that from the assignment on.
    """
    progress = Progress(expected=sum(ends.values()))
    group = f"bench-{name}-{uuid.uuid4().hex[:10]}"
    consumer = Consumer(
        settings,
        service=SERVICE,
        group_id=group,
        topics=[topic],
        handler=progress.counting(handler),
    )
    broker = broker_pid(settings.bootstrap_servers)
    async with committed_offsets(settings, group, topic) as committed:  # connected beforehand
        started = time.perf_counter()
        await consumer.start()
        try:
            assigned_at = await wait_until(lambda: consumer.assigned, ASSIGNMENT_TIMEOUT_S)
            if assigned_at is None:
                raise RuntimeError(f"{group} was not assigned within {ASSIGNMENT_TIMEOUT_S} s")
            before = own_times(broker)
            try:
                async with asyncio.timeout(CONSUME_TIME_LIMIT_S):
                    await progress.all_handled.wait()
            except TimeoutError:
                done_at = None
            else:
                done_at = await wait_for_commit(committed, ends)
            spent = own_times(broker) - before
        finally:
            await consumer.stop()
    if progress.first_at is None or progress.last_at is None:
        raise RuntimeError(f"{group} handled no record within {CONSUME_TIME_LIMIT_S} s")
    figure_name = f"kafka.consume.{name}"
    figures = [
        Figure(
            f"{figure_name}.assignment",
            assigned_at - started,
            "s",
            1,
            {"session_timeout_ms": settings.session_timeout_ms},
        ),
    ]
    if done_at is None:
        elapsed = progress.last_at - progress.first_at
        figures.append(
            rate(figure_name, progress.handled, elapsed, "records/s", **params, time_limited=True)
        )
    else:
        elapsed = done_at - progress.first_at
        figures.append(rate(figure_name, progress.handled, elapsed, "records/s", **params))
    return figures + per_record(figure_name, spent, progress.handled, params)


@asynccontextmanager
async def committed_offsets(
    settings: KafkaSettings, group: str, topic: str
) -> AsyncIterator[CommittedOffsets]:
    """A function asking the broker for ``group``'s committed offsets in ``topic``.

    The client never joins the group, so it does not disturb the consumer being measured.
    """
    client = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-bench-offsets",
        group_id=group,
        enable_auto_commit=False,
        **client_security(settings),
    )
    await client.start()

    async def ask() -> dict[int, int]:
        found: dict[int, int] = {}
        for partition in range(settings.partitions):
            offset = await client.committed(TopicPartition(topic, partition))
            if offset is not None:
                found[partition] = offset
        return found

    try:
        yield ask
    finally:
        await client.stop()


async def wait_for_commit(committed: CommittedOffsets, ends: Mapping[int, int]) -> float:
    """Poll until every partition's committed offset reaches ``ends``; when it did."""
    deadline = time.perf_counter() + COMMIT_TIMEOUT_S
    while True:
        offsets = await committed()
        if all(offsets.get(partition, 0) >= end for partition, end in ends.items()):
            return time.perf_counter()
        if time.perf_counter() >= deadline:
            raise RuntimeError(f"offsets {ends} not committed within {COMMIT_TIMEOUT_S} s")
        await asyncio.sleep(POLL_INTERVAL_S)


async def wait_until(condition: Callable[[], bool], timeout_s: float) -> float | None:
    """Poll ``condition``; the moment it held, or ``None`` after ``timeout_s``."""
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() >= deadline:
            return None
        await asyncio.sleep(POLL_INTERVAL_S)
    return time.perf_counter()


@asynccontextmanager
async def inbox_schema(postgres: PostgresSettings) -> AsyncIterator[asyncpg.Pool[asyncpg.Record]]:
    """A pool working in a fresh ``bench_<hex>`` schema with fanout's migrations applied,
    dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    pool = await create_pool(postgres.model_copy(update={"pool_max_size": 2}), schema=schema)
    try:
        await apply_migrations(pool, schema=schema, migrations=load_migrations(FANOUT_PACKAGE))
        yield pool
    finally:
        try:
            await pool.execute(f"drop schema if exists {quote_schema(schema)} cascade")
        finally:
            await close_pool(pool)


BENCHMARK = Benchmark(
    "kafka",
    "producer send rates and consumer-loop throughput (no-op and inbox handlers) on the broker",
    run,
)
