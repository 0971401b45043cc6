"""``ingest``: the ingestion service end to end, on the real broker and Postgres.

Everything runs on a schema (``bench_ingestion_<hex>`` in ``canopy_test``, dropped at the end),
a consumer group and topics of its own (a uuid suffix, 12 partitions, deleted at the end). The
write model already holds :data:`EXISTING_POSTS` posts of another tenant, with statistics, as a
running service's does (see the comment there for why it matters).

- ``ingest.upstream.events_per_s``: :data:`UPSTREAM_EVENTS` records of a realistic upstream
  mix (:mod:`bench.upstream_mix`: six systems, hundreds of keys, Tasks, Events, announcements,
  documents and profile changes), pre-produced to the upstream topic (not timed), then the
  service in worker mode in this process (its consumer and its outbox relay): events/s from
  the first record the consumer is handed until the last activity is on the activities topic
  — validated, stored with its outbox row, relayed. ``.stored_per_s`` is the rate until every
  event is committed to Postgres, ``.backlog_zero`` when the outbox was empty as well (from
  the first record), ``.assignment`` the group join (left out of the rates).
- ``ingest.upstream.cpu_us_per_event``: the CPU of this process (the worker, and the
  benchmark's own light watching), Postgres and the broker from the worker's start until the
  last activity was out, ÷ the events; each part's share in its ``params``.
- ``ingest.http.posts`` (:mod:`bench.ingest_http`): the write API under load: requests/s,
  ``.p50`` and ``.p99`` latency.
- ``ingest.outbox.relay``: the posts' outbox (api mode runs no relay), drained by one
  :class:`~canopy_ingestion.adapters.relay.OutboxRelay` in this process: activities/s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final

import asyncpg
from prometheus_client import REGISTRY

from bench import upstream_mix
from bench.cpu import BENCH_PART, CpuMeter, cost_figure, server_parts
from bench.figures import Figure, JSONScalar, rate
from bench.harness import BenchContext, Benchmark
from bench.ingest_http import EMPLOYEES, http_posts
from bench.kafka import (
    delete_topics,
    produce_concurrently,
    wait_until,
)
from bench.tally import TopicTally
from canopy_common.consuming import BatchHandler, ConsumedRecord, Handler, Rejected
from canopy_common.db import close_pool, create_pool, quote_schema
from canopy_common.kafka import Producer, ensure_topics
from canopy_common.service import ConsumerSpec, Mode, Runtime, create_service_app, migrate
from canopy_common.settings import KafkaSettings
from canopy_ingestion.adapters.relay import OutboxRelay
from canopy_ingestion.app import DEFINITION
from canopy_ingestion.settings import Settings
from canopy_testing.kafka import read_topic

PARTITIONS: Final = 12  # KafkaSettings' default, as in production
# Enough for a few seconds of consuming at the rates a 2-core VM reaches, so the figure is
# not a start-up effect; producing them beforehand takes a few seconds more.
UPSTREAM_EVENTS: Final = 50_000
WINDOW: Final = 100  # sends in flight while pre-producing (see bench.kafka.WINDOW)
# A running service's posts table is not empty and has statistics. On an empty, unanalysed
# one the planner looks an upstream object up (posts by tenant and id) through posts_by_thread,
# filtering the tenant's posts, and a prepared statement may keep that plan: 10,000 events
# into an empty table took ~0.7 ms a lookup instead of ~0.25 ms, and 40 s instead of 28.
EXISTING_POSTS: Final = 20_000
OTHER_TENANT: Final = "bench-existing"
UPSTREAM_TIME_LIMIT_S: Final = 75.0  # from the first record on
DRAIN_TIME_LIMIT_S: Final = 30.0
ASSIGNMENT_TIMEOUT_S: Final = 30.0
PROGRESS_INTERVAL_S: Final = 0.05  # the worker's counters: in this process, nearly free
_UNSENT = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
_RECORDS = "canopy_ingestion_consumer_records_total"
_PUBLISHED = "canopy_ingestion_outbox_published_total"


async def run(ctx: BenchContext) -> list[Figure]:
    """Upstream through a worker, then HTTP posts through a server, then their outbox."""
    settings = bench_settings(ctx, uuid.uuid4().hex[:10])
    upstream_tenant, http_tenant = (f"bench-{uuid.uuid4().hex[:8]}" for _ in range(2))
    authors = [f"emp{i:04d}" for i in range(EMPLOYEES)]
    try:
        await ensure_topics(settings.kafka)
        await migrate(DEFINITION, settings)
        async with (
            schema_pool(settings) as pool,
            TopicTally(settings.kafka, settings.kafka.topic_activities) as activities,
        ):
            firm = upstream_mix.company(upstream_tenant)
            await upstream_mix.seed_company(pool, firm)
            await seed_people(pool, http_tenant, [(user, "employee") for user in authors])
            await seed_existing_posts(pool)
            sync = str(await pool.fetchval("show synchronous_commit"))
            figures = await upstream(settings, pool, activities, firm, sync)
            posted, http_figures = await http_posts(settings, http_tenant, authors)
            figures += http_figures
            figures.append(await relay_drain(settings, pool, activities, posted, sync))
        return figures
    finally:
        await drop_schema(settings)
        await delete_topics(settings.kafka, settings.kafka.all_topics())


def bench_settings(ctx: BenchContext, suffix: str) -> Settings:
    """The service's settings on the bench's servers, with a schema, a group and topics of
    their own."""
    topics = {
        name: f"bench.{name.removeprefix('topic_')}.{suffix}"
        for name in KafkaSettings.model_fields
        if name.startswith("topic_")
    }
    kafka = ctx.kafka.model_copy(
        update={
            "partitions": PARTITIONS,
            **topics,
        }
    )
    return Settings(
        db_schema=f"bench_ingestion_{suffix}",
        consumer_group=f"bench-ingestion-{suffix}",
        kafka=kafka,
        postgres=ctx.postgres,
    )


# --- upstream -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Milestones:
    """How far the upstream run got, and when (``perf_counter``); ``None``: not reached."""

    first_record: float | None = None  # the consumer was handed its first record
    stored_count: int = 0
    stored: float | None = None  # every event committed with its outbox row
    activities: int | None = None  # outbox rows of the events, known once they are stored
    published: float | None = None  # every activity on the activities topic
    backlog_zero: float | None = None  # every event stored and the outbox empty

    def noting_first(
        self, spec: ConsumerSpec[Runtime[Settings]]
    ) -> ConsumerSpec[Runtime[Settings]]:
        """``spec`` with handlers that note when the first record reaches either of them."""

        def handler(runtime: Runtime[Settings]) -> Handler:
            inner = spec.handler(runtime)

            async def handle(record: ConsumedRecord) -> None:
                self._first()
                await inner(record)

            return handle

        def batch_handler(runtime: Runtime[Settings]) -> BatchHandler:
            assert spec.batch_handler is not None
            inner = spec.batch_handler(runtime)

            async def handle(records: Sequence[ConsumedRecord]) -> Sequence[Rejected] | None:
                self._first()
                return await inner(records)  # the refused ones, for the consumer's DLQ

            return handle

        return dataclasses.replace(
            spec, handler=handler, batch_handler=batch_handler if spec.batch_handler else None
        )

    def _first(self) -> None:
        if self.first_record is None:
            self.first_record = time.perf_counter()


async def upstream(
    settings: Settings,
    pool: asyncpg.Pool,
    activities: TopicTally,
    firm: upstream_mix.Company,
    sync: str,
) -> list[Figure]:
    """Pre-produce the mix, start the worker and time the events through to the topic."""
    kafka = settings.kafka
    records = upstream_mix.upstream_events(firm, UPSTREAM_EVENTS)
    async with Producer(kafka, client_id=f"{kafka.client_id}-bench") as producer:
        _, ends = await produce_concurrently(producer, kafka.topic_upstream, records, WINDOW, {})
    events = sum(ends.values())
    reached = Milestones()
    definition = dataclasses.replace(
        DEFINITION, consumers=[reached.noting_first(spec) for spec in DEFINITION.consumers]
    )
    app = create_service_app(definition, settings, Mode.WORKER)
    progress = Progress(kafka.topic_upstream)
    meter = CpuMeter(
        server_parts(
            postgres_dsn=settings.postgres.dsn, redis_url=None, broker=kafka.bootstrap_servers
        )
    )
    before = meter.read()
    started = time.perf_counter()
    async with app.router.lifespan_context(app):
        runtime: Runtime[Settings] = app.state.runtime
        # The upstream one; the others (audit, export parts) have nothing to do here.
        consumer = runtime.consumers[[spec.name for spec in DEFINITION.consumers].index("upstream")]
        assigned_at = await wait_until(lambda: consumer.assigned, ASSIGNMENT_TIMEOUT_S)
        if assigned_at is None:
            raise RuntimeError(f"the worker was not assigned within {ASSIGNMENT_TIMEOUT_S} s")
        await watch_upstream(pool, activities, events, reached, progress)
    spent = meter.since(before)
    dead = len(await read_topic(kafka, kafka.topic_dlq))
    if dead:
        raise RuntimeError(f"{dead} upstream events were dead-lettered: the rates would lie")
    if reached.first_record is None:
        raise RuntimeError(f"the worker was handed no record within {UPSTREAM_TIME_LIMIT_S} s")

    params: dict[str, JSONScalar] = {
        "mix": upstream_mix.describe_mix(),
        "systems": len(upstream_mix.BOTS),
        "keys": upstream_mix.keys_of(records),
        "partitions": PARTITIONS,
        "batch": kafka.max_batch_records,
        "existing_posts": EXISTING_POSTS,
        "synchronous_commit": sync,
    }
    first = reached.first_record
    figures = [
        Figure(
            "ingest.upstream.assignment",
            assigned_at - started,
            "s",
            1,
            {"session_timeout_ms": settings.kafka.session_timeout_ms},
        ),
        upstream_rate(
            "ingest.upstream.events_per_s",
            activities.count,
            events,
            first,
            reached.published,
            {**params, "activities": reached.activities},
        ),
        upstream_rate(
            "ingest.upstream.stored_per_s",
            reached.stored_count,
            events,
            first,
            reached.stored,
            params,
        ),
    ]
    # The worker runs in this process: its CPU (BENCH_PART) is the service's.
    figures += cost_figure(
        "ingest.upstream.cpu_us_per_event",
        spent,
        events,
        params,
        in_system=frozenset({BENCH_PART}),
        per="event",
    )
    if reached.backlog_zero is not None:
        after_s = reached.backlog_zero - first
        figures.append(
            Figure("ingest.upstream.backlog_zero", after_s, "s", events, {"from": "first record"})
        )
    return figures


def upstream_rate(
    name: str,
    done: int,
    events: int,
    first: float,
    at: float | None,
    params: dict[str, JSONScalar],
) -> Figure:
    """``events`` from the first record to ``at``; if the time limit came first, the ``done``
    of them in that time (``time_limited=True``)."""
    if at is None:
        return rate(name, done, UPSTREAM_TIME_LIMIT_S, "events/s", **params, time_limited=True)
    return rate(name, events, at - first, "events/s", **params)


class Progress:
    """How far the worker got, from its own Prometheus counters (it runs in this process):
    records handled (each batch's after its commit) and outbox rows marked sent. Polling
    them costs the measured system nothing, unlike counting rows in its tables."""

    def __init__(self, topic: str) -> None:
        self._topic = topic
        self._start = (self._handled(), self._sent())

    def handled(self) -> int:
        return self._handled() - self._start[0]

    def sent(self) -> int:
        return self._sent() - self._start[1]

    def _handled(self) -> int:
        return sum(
            int(REGISTRY.get_sample_value(_RECORDS, {"topic": self._topic, "outcome": o}) or 0)
            for o in ("processed", "dead_lettered")
        )

    @staticmethod
    def _sent() -> int:
        return int(REGISTRY.get_sample_value(_PUBLISHED) or 0)


async def watch_upstream(
    pool: asyncpg.Pool, activities: TopicTally, events: int, reached: Milestones, progress: Progress
) -> None:
    """Poll the worker's counters and the tally until every stage is reached, or the time is
    up (counted from the first record, or from now while there is none)."""
    began = time.perf_counter()
    while reached.backlog_zero is None or reached.published is None:
        if time.perf_counter() >= (reached.first_record or began) + UPSTREAM_TIME_LIMIT_S:
            return
        now, reached.stored_count = time.perf_counter(), progress.handled()
        if reached.stored is None and reached.stored_count >= events:
            reached.stored = now
            reached.activities = int(await pool.fetchval("SELECT count(*) FROM outbox"))
        if reached.activities is not None:
            reached.published = activities.reached_at(reached.activities)
            if reached.backlog_zero is None and progress.sent() >= reached.activities:
                reached.backlog_zero = time.perf_counter()
        await asyncio.sleep(PROGRESS_INTERVAL_S)


async def relay_drain(
    settings: Settings, pool: asyncpg.Pool, activities: TopicTally, posts: int, sync: str
) -> Figure:
    """One relay publishing the backlog the API left: from its start until the last of those
    activities is on the topic."""
    backlog = int(await pool.fetchval(_UNSENT))
    if backlog < posts:
        raise RuntimeError(f"the outbox holds {backlog} unsent rows; {posts} posts were created")
    before = activities.count  # nothing has been published since the upstream run
    async with Producer(settings.kafka) as producer:
        started = time.perf_counter()
        async with OutboxRelay(pool, producer, settings):
            await wait_until(lambda: activities.count >= before + backlog, DRAIN_TIME_LIMIT_S)
    published_at = activities.reached_at(before + backlog)
    if published_at is None:
        raise RuntimeError(
            f"{activities.count - before} of {backlog} activities published "
            f"within {DRAIN_TIME_LIMIT_S} s"
        )
    if unsent := await pool.fetchval(_UNSENT):
        raise RuntimeError(f"every activity is on the topic, but {unsent} rows are not marked")
    return rate(
        "ingest.outbox.relay",
        backlog,
        published_at - started,
        "activities/s",
        keys=EMPLOYEES,
        batch=settings.relay_batch_size,
        buckets_per_claim=settings.relay_buckets_per_claim,
        concurrency=settings.relay_concurrency,
        synchronous_commit=sync,
    )


# --- shared -------------------------------------------------------------------------------------


async def seed_people(pool: asyncpg.Pool, tenant: str, people: Sequence[tuple[str, str]]) -> None:
    """A tenant and its people (``(id, kind)``), straight into the tables, as the tests do."""
    await pool.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", tenant, "Bench Corp")
    await pool.executemany(
        "INSERT INTO users (tenant_id, id, handle, display_name, kind) VALUES ($1, $2, $2, $3, $4)",
        [(tenant, user, user.title(), kind) for user, kind in people],
    )


async def seed_existing_posts(pool: asyncpg.Pool) -> None:
    """:data:`EXISTING_POSTS` posts of another tenant, then statistics for the tables."""
    await pool.execute("INSERT INTO tenants (id, name) VALUES ($1, $2)", OTHER_TENANT, "Other")
    await pool.execute(
        "INSERT INTO posts (tenant_id, id, author_id, kind, as2_type, content, visibility, "
        "  thread_id) "
        "SELECT $1, id, 'u' || (n % 500), 'note', 'Note', 'Hello #team', 'internal', id "
        "FROM (SELECT 'urn:uuid:' || gen_random_uuid() AS id, n "
        "      FROM generate_series(1, $2::int) AS n) AS fresh",
        OTHER_TENANT,
        EXISTING_POSTS,
    )
    await pool.execute("ANALYZE tenants, users, posts")


@asynccontextmanager
async def schema_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool[asyncpg.Record]]:
    """A small pool working in the bench's schema, for seeding and counting."""
    small = settings.postgres.model_copy(update={"pool_max_size": 2})
    pool = await create_pool(small, schema=settings.db_schema)
    try:
        yield pool
    finally:
        await close_pool(pool)


async def drop_schema(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.postgres.dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_schema(settings.db_schema)} CASCADE")
    finally:
        await conn.close()


BENCHMARK = Benchmark(
    "ingest",
    "ingestion end to end: upstream events to the activities topic, HTTP posts, outbox relay",
    run,
)
