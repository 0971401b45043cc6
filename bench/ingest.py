"""``ingest``: the ingestion service end to end, on the real broker and Postgres.

Everything runs on a schema (``bench_ingestion_<hex>`` in ``canopy_test``, dropped at the end),
a consumer group and topics of its own (a uuid suffix, 12 partitions, deleted at the end). The
write model already holds :data:`EXISTING_POSTS` posts of another tenant, with statistics, as a
running service's does (see the comment there for why it matters).

- ``ingest.upstream``: Task-create events by one bot, pre-produced to the upstream topic
  (production not timed), then the service in worker mode in this process: events/s from the
  consumer group's assignment until every activity is on the activities topic (strict decode,
  one transaction per fetched partition batch, outbox, relay). ``.stored`` is the rate until
  every event is committed to Postgres, ``.backlog_zero`` when the outbox was empty as well,
  ``.assignment`` the group join (left out of the rates).
- ``ingest.http.posts``: ``python -m canopy_ingestion api``, a real uvicorn server in a
  subprocess, driven by httpx at a fixed concurrency for a bounded time, each request a
  different author's post with a mention and a hashtag: requests/s, ``.p50`` and ``.p99``
  latency. The load generator and the server share the machine's cores.
- ``ingest.outbox.relay``: the posts' outbox (api mode runs no relay), drained by one
  :class:`~canopy_ingestion.adapters.relay.OutboxRelay` in this process: activities/s.

The outbox keys an activity by ``tenant:actor`` and the relay awaits each send of a key
before the next, so one actor's activities keep their order. The upstream events all come
from one bot: their activities are published one acknowledged send after another, onto one
partition. The posts have 256 authors, and so 256 chains the relay sends side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final, Self

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.figures import Figure, JSONScalar, rate
from bench.harness import BenchContext, Benchmark
from bench.kafka import (
    HEARTBEAT_INTERVAL_MS,
    SESSION_TIMEOUT_MS,
    Outgoing,
    delete_topics,
    produce_concurrently,
    wait_until,
)
from bench.servers import api_server, free_port
from canopy_common.auth import issue_token
from canopy_common.db import close_pool, create_pool, quote_schema
from canopy_common.iris import user_iri
from canopy_common.kafka import Producer, ensure_topics
from canopy_common.service import Mode, Runtime, migrate
from canopy_common.settings import KafkaSettings
from canopy_common.testing.kafka import read_topic
from canopy_ingestion.adapters.relay import OutboxRelay
from canopy_ingestion.app import DEFINITION, create_app
from canopy_ingestion.settings import Settings

AS2: Final = "https://www.w3.org/ns/activitystreams"
PARTITIONS: Final = 12  # KafkaSettings' default, as in production
# ~30 s of consuming at the ~300-350 events/s a 2-core VM manages; 20,000 would take the
# whole benchmark close to two minutes, and past them on a slow run.
UPSTREAM_EVENTS: Final = 10_000
WINDOW: Final = 100  # sends in flight while pre-producing (see bench.kafka.WINDOW)
PROJECTS: Final = 48  # upstream record keys `tenant:<project>`: every partition gets some
ASSIGNEES: Final = 16
BOT: Final = "jira-bot"
# A running service's posts table is not empty and has statistics. On an empty, unanalysed
# one the planner looks an upstream object up (posts by tenant and id) through posts_by_thread,
# filtering the tenant's posts, and a prepared statement may keep that plan: 10,000 events
# into an empty table took ~0.7 ms a lookup instead of ~0.25 ms, and 40 s instead of 28.
EXISTING_POSTS: Final = 20_000
OTHER_TENANT: Final = "bench-existing"
EMPLOYEES: Final = 256  # HTTP authors; request i is by employee i
HTTP_CONCURRENCY: Final = 32
HTTP_DURATION_S: Final = 10.0
HTTP_MAX_REQUESTS: Final = 50_000
HTTP_WARMUP_REQUESTS: Final = 2 * HTTP_CONCURRENCY  # first-request costs, not timed
HTTP_TIMEOUT_S: Final = 10.0
UPSTREAM_TIME_LIMIT_S: Final = 75.0  # from assignment on
DRAIN_TIME_LIMIT_S: Final = 30.0
ASSIGNMENT_TIMEOUT_S: Final = 30.0
PROGRESS_INTERVAL_S: Final = 0.05  # row counts while the worker runs: cheap, but they share it
TALLY_FETCH_MS: Final = 100
_UNSENT = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"


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
            bot_and_assignees = [(BOT, "bot")]
            bot_and_assignees += [(f"assignee{i:02d}", "employee") for i in range(ASSIGNEES)]
            await seed_people(pool, upstream_tenant, bot_and_assignees)
            await seed_people(pool, http_tenant, [(user, "employee") for user in authors])
            await seed_existing_posts(pool)
            sync = str(await pool.fetchval("show synchronous_commit"))
            figures = await upstream(settings, pool, activities, upstream_tenant, sync)
            posted, http_figures = await http_posts(settings, http_tenant, authors)
            figures += http_figures
            figures.append(await relay_drain(settings, pool, activities, posted, sync))
        return figures
    finally:
        await drop_schema(settings)
        await delete_topics(settings.kafka, settings.kafka.all_topics())


def bench_settings(ctx: BenchContext, suffix: str) -> Settings:
    """The service's settings on the bench's servers, with a schema, a group and topics of
    their own, and the 6 s session timeout (Tansu holds a join for half of it)."""
    topics = {
        name: f"bench.{name.removeprefix('topic_')}.{suffix}"
        for name in KafkaSettings.model_fields
        if name.startswith("topic_")
    }
    kafka = ctx.kafka.model_copy(
        update={
            "partitions": PARTITIONS,
            "session_timeout_ms": SESSION_TIMEOUT_MS,
            "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
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


def task_events(tenant: str, count: int) -> list[Outgoing]:
    """``count`` upstream ``Create``s of a Task by the bot, each assigned to one person and
    keyed ``tenant:<project>``, with distinct activity and task ids."""
    due = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    published = datetime.now(UTC).isoformat()
    events = []
    for i in range(count):
        task = f"P{i % PROJECTS:02d}-{i}"
        doc = {
            "@context": AS2,
            "id": f"https://jira.example/events/{uuid.uuid4()}",
            "type": "Create",
            "actor": user_iri(tenant, BOT),
            "object": {
                "type": "Task",
                "id": f"https://jira.example/browse/{task}",
                "name": f"Review the rollout plan ({task})",
                "content": "Check the staged rollout and sign off before the release train.",
                "endTime": due,
            },
            "to": [user_iri(tenant, f"assignee{i % ASSIGNEES:02d}")],
            "published": published,
            "tenant": tenant,
            "source": "jira",
        }
        events.append(Outgoing(f"{tenant}:{task.split('-')[0]}", orjson.dumps(doc)))
    return events


@dataclass(slots=True)
class Milestones:
    """How far the upstream run got, and when (``perf_counter``); ``None``: not reached."""

    stored_count: int = 0
    stored: float | None = None  # every event committed with its outbox row
    published: float | None = None  # every activity on the activities topic
    backlog_zero: float | None = None  # every event stored and the outbox empty


async def upstream(
    settings: Settings, pool: asyncpg.Pool, activities: TopicTally, tenant: str, sync: str
) -> list[Figure]:
    """Pre-produce the Task events, start the worker and time them through to the topic."""
    kafka = settings.kafka
    async with Producer(kafka, client_id=f"{kafka.client_id}-bench") as producer:
        _, ends = await produce_concurrently(
            producer, kafka.topic_upstream, task_events(tenant, UPSTREAM_EVENTS), WINDOW, {}
        )
    events = sum(ends.values())
    app = create_app(settings, Mode.WORKER)
    started = time.perf_counter()
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        [consumer] = runtime.consumers
        assigned_at = await wait_until(lambda: consumer.assigned, ASSIGNMENT_TIMEOUT_S)
        if assigned_at is None:
            raise RuntimeError(f"the worker was not assigned within {ASSIGNMENT_TIMEOUT_S} s")
        reached = await watch_upstream(pool, activities, events)
    dead = len(await read_topic(kafka, kafka.topic_dlq))
    if dead:
        raise RuntimeError(f"{dead} upstream events were dead-lettered: the rates would lie")

    params: dict[str, JSONScalar] = {
        "partitions": PARTITIONS,
        "bots": 1,
        "batch": kafka.max_batch_records,
        "existing_posts": EXISTING_POSTS,
        "synchronous_commit": sync,
    }
    figures = [
        Figure(
            "ingest.upstream.assignment",
            assigned_at - started,
            "s",
            1,
            {"session_timeout_ms": SESSION_TIMEOUT_MS},
        ),
        upstream_rate(
            "ingest.upstream", activities.count, events, assigned_at, reached.published, params
        ),
        upstream_rate(
            "ingest.upstream.stored",
            reached.stored_count,
            events,
            assigned_at,
            reached.stored,
            params,
        ),
    ]
    if reached.backlog_zero is not None:
        after_s = reached.backlog_zero - assigned_at
        figures.append(
            Figure("ingest.upstream.backlog_zero", after_s, "s", events, {"from": "assignment"})
        )
    return figures


def upstream_rate(
    name: str,
    done: int,
    events: int,
    assigned_at: float,
    at: float | None,
    params: dict[str, JSONScalar],
) -> Figure:
    """``events`` from assignment to ``at``; if the time limit came first, the ``done`` of
    them in that time (``time_limited=True``)."""
    if at is None:
        return rate(name, done, UPSTREAM_TIME_LIMIT_S, "events/s", **params, time_limited=True)
    return rate(name, events, at - assigned_at, "events/s", **params)


async def watch_upstream(pool: asyncpg.Pool, activities: TopicTally, events: int) -> Milestones:
    """Poll the row counts and the tally until every stage is reached, or the time is up."""
    reached = Milestones()
    deadline = time.perf_counter() + UPSTREAM_TIME_LIMIT_S
    while reached.backlog_zero is None or reached.published is None:
        if time.perf_counter() >= deadline:
            return reached
        row = await pool.fetchrow(f"SELECT (SELECT count(*) FROM consumed_activities), ({_UNSENT})")
        assert row is not None
        now, (reached.stored_count, unsent) = time.perf_counter(), row
        if reached.stored is None and reached.stored_count >= events:
            reached.stored = now
        if reached.backlog_zero is None and reached.stored is not None and unsent == 0:
            reached.backlog_zero = now
        reached.published = activities.reached_at(events)
        await asyncio.sleep(PROGRESS_INTERVAL_S)
    return reached


# --- HTTP posts ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Load:
    """What the load generator saw: latencies of the 201s, and the other answers by kind."""

    latencies_s: list[float]
    errors: dict[str, int]
    elapsed_s: float


async def http_posts(
    settings: Settings, tenant: str, authors: Sequence[str]
) -> tuple[int, list[Figure]]:
    """Serve the API from a subprocess and post at a fixed concurrency: how many posts were
    created (warm-up included), and the figures."""
    tokens = [
        issue_token(settings.auth, tenant=tenant, user=user, roles=["member"]) for user in authors
    ]
    skip_sniffio_lookups()
    port = free_port()
    async with api_server(settings, port):
        base_url = f"http://{settings.host}:{port}"
        warmup = await drive(base_url, authors, tokens, HTTP_WARMUP_REQUESTS, None)
        load = await drive(base_url, authors, tokens, HTTP_MAX_REQUESTS, HTTP_DURATION_S)
    errors = dict(warmup.errors)
    for what, count in load.errors.items():
        errors[what] = errors.get(what, 0) + count
    done = len(load.latencies_s)
    if done < 2:
        raise RuntimeError(f"only {done} posts were created; the other answers: {errors}")
    params: dict[str, JSONScalar] = {
        "concurrency": HTTP_CONCURRENCY,
        "errors": sum(errors.values()),
        **{f"errors_{what}": count for what, count in sorted(errors.items())},
    }
    cuts = statistics.quantiles(load.latencies_s, n=100, method="inclusive")
    figures = [
        rate(
            "ingest.http.posts",
            done,
            load.elapsed_s,
            "requests/s",
            **params,
            pool_max_size=settings.postgres.pool_max_size,
            client="httpx in the bench process, sharing the cores with the server",
            cores=os.cpu_count(),
        ),
        Figure("ingest.http.posts.p50", cuts[49] * 1000, "ms", done, params),
        Figure("ingest.http.posts.p99", cuts[98] * 1000, "ms", done, params),
    ]
    return done + len(warmup.latencies_s), figures


async def drive(
    base_url: str,
    authors: Sequence[str],
    tokens: Sequence[str],
    requests: int,
    duration_s: float | None,
) -> Load:
    """:data:`HTTP_CONCURRENCY` workers posting until ``requests`` have been sent or
    ``duration_s`` (if any) is up; request ``i`` is by author ``i``, mentioning ``i + 1``.

    Each worker has a client of its own with one keep-alive connection: httpcore's pool
    matches waiting requests to connections in time that grows with both, and one shared
    pool of 32 cost more CPU than the server did.
    """
    latencies: list[float] = []
    errors: dict[str, int] = {}
    issued = 0
    start = time.perf_counter()
    deadline = start + duration_s if duration_s is not None else float("inf")

    async def worker() -> None:
        nonlocal issued
        async with httpx.AsyncClient(
            base_url=base_url, limits=httpx.Limits(max_connections=1), timeout=HTTP_TIMEOUT_S
        ) as client:
            while issued < requests and time.perf_counter() < deadline:
                i, issued = issued, issued + 1
                mentioned = authors[(i + 1) % len(authors)]
                body = {
                    "content": f"Notes from sync {i}: thanks @{mentioned} for the review, "
                    "the rollout goes out on Friday. #release"
                }
                headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
                sent = time.perf_counter()
                try:
                    response = await client.post("/v1/posts", json=body, headers=headers)
                except httpx.HTTPError as exc:
                    what = type(exc).__name__
                else:
                    if response.status_code == 201:
                        latencies.append(time.perf_counter() - sent)
                        continue
                    what = str(response.status_code)
                errors[what] = errors.get(what, 0) + 1

    await asyncio.gather(*(worker() for _ in range(HTTP_CONCURRENCY)))
    return Load(latencies, errors, time.perf_counter() - start)


def skip_sniffio_lookups() -> None:
    """Record sniffio as missing, so httpcore stops searching ``sys.path`` for it.

    httpcore imports sniffio whenever it makes a lock or an event (several per request);
    anyio 4 no longer brings it, and a failed import searches again every time: ~0.4 ms a
    call here, a quarter of the load generator's CPU. httpcore then assumes asyncio, which is
    what it concludes without sniffio anyway.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


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
        synchronous_commit=sync,
    )


# --- shared -------------------------------------------------------------------------------------


class TopicTally:
    """Counts a topic's records as they arrive, and notes when each count was reached.

    A consumer of every partition, in no group, from the beginning. The brokers' end offsets
    would be cheaper to ask, but Tansu answers the base offset of a partition's last batch
    plus one, not the offset after its last record, so they undercount.
    """

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.count = 0
        self._counts: list[tuple[int, float]] = []  # (count, perf_counter) after each fetch
        self._partitions = [TopicPartition(topic, p) for p in range(kafka.partitions)]
        self._client = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers,
            client_id=f"{kafka.client_id}-bench-tally",
            enable_auto_commit=False,
        )
        self._task: asyncio.Task[None] | None = None

    def reached_at(self, total: int) -> float | None:
        """When the count first reached ``total``; ``None`` if it has not."""
        if self._task is not None and self._task.done():
            self._task.result()  # the tally failed: say why, rather than wait for nothing
        return next((at for count, at in self._counts if count >= total), None)

    async def __aenter__(self) -> Self:
        await self._client.start()
        self._client.assign(self._partitions)
        await self._client.seek_to_beginning(*self._partitions)
        self._task = asyncio.create_task(self._tally(), name="bench-tally")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.stop()

    async def _tally(self) -> None:
        while True:
            batches = await self._client.getmany(timeout_ms=TALLY_FETCH_MS)
            if received := sum(len(records) for records in batches.values()):
                self.count += received
                self._counts.append((self.count, time.perf_counter()))


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
