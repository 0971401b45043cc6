"""What every Canopy service process shares: its clients, health, readiness, metrics, run modes.

A service describes itself once with a :class:`ServiceDefinition` (name, routers, migrations,
its ``bootstrap``, consumers, background workers); :func:`create_service_app` turns that plus
its settings into a FastAPI app whose lifespan builds every client (a :class:`Runtime` typed by
the service's settings), applies the migrations, builds the service's collaborators ONCE with
its ``bootstrap`` (a typed container: feed store, caches, ...), hands them to the consumers and
workers, keeps both on ``app.state`` for the routes (:func:`collaborators_of`), and closes
everything after ``yield``. :func:`run_cli` is the body of each ``python -m canopy_<svc>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg
import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI
from pydantic import ValidationError

from canopy_common.auth import install_auth
from canopy_common.db import apply_migrations, close_pool, create_pool, load_migrations
from canopy_common.db_metrics import StatementCounter
from canopy_common.health import health_router
from canopy_common.http_processes import serve_processes, uvicorn_options
from canopy_common.kafka import BatchHandler, ConsumedRecord, Consumer, Producer, ensure_topics
from canopy_common.limits import RequestLimits
from canopy_common.logging import configure_logging
from canopy_common.loops import backoff_s
from canopy_common.members import Members, PersonDirectory, current_member
from canopy_common.metrics import HttpMetrics
from canopy_common.openapi import install_openapi
from canopy_common.problems import install_error_handlers
from canopy_common.rate_limits import (
    RateLimiter,
    RateLimitHeaders,
    RouteClass,
    install_rate_limits,
    rate_limit_dependency,
)
from canopy_common.redis import close_redis, create_redis
from canopy_common.row_security import assume_app_role, grant_app_role
from canopy_common.runtime import BackgroundWorker as BackgroundWorker
from canopy_common.runtime import Mode as Mode
from canopy_common.runtime import Runtime as Runtime
from canopy_common.runtime import collaborators_of as collaborators_of
from canopy_common.runtime import runtime_of as runtime_of
from canopy_common.settings import ServiceSettings

log = structlog.get_logger(__name__)

# Services may start before Postgres, Redis or the broker answer (all started at once by the
# process manager, or after an outage): keep trying for this long before giving up.
STARTUP_RETRY_S = 60.0
# A broker that answers is connected well within this; one that does not is waited for in the
# background while the service serves.
BROKER_FIRST_WAIT_S = 5.0


Handler = Callable[[ConsumedRecord], Awaitable[None]]

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
# A service's collaborators: what its ``bootstrap`` builds once from the runtime.
CollaboratorsT = TypeVar("CollaboratorsT")


@dataclass(frozen=True)
class ConsumerSpec(Generic[CollaboratorsT]):
    """One consumer group member: its topics and factories building its handlers.

    ``batch_handler`` (optional) handles a fetched partition batch at once, e.g. in one
    transaction, or with ``whole_fetch`` all the partitions' records of a fetch; on any
    failure the consumer falls back to ``handler`` record by record.
    ``group_suffix`` gives a second consumer of a service a group of its own
    (``<consumer_group>.<suffix>``): members of one group that subscribe to different topics
    rebalance each other, so a busy topic's consumer would stop the other one at every join.
    """

    name: str
    topics: Callable[[ServiceSettings], list[str]]
    handler: Callable[[CollaboratorsT], Handler]
    batch_handler: Callable[[CollaboratorsT], BatchHandler] | None = None
    whole_fetch: bool = False
    group_suffix: str | None = None

    def group_id(self, settings: ServiceSettings) -> str:
        """The consumer group this consumer joins."""
        base = settings.consumer_group
        return f"{base}.{self.group_suffix}" if self.group_suffix else base


def runtime_only(runtime: Runtime[SettingsT]) -> Runtime[SettingsT]:
    """The ``bootstrap`` of a service whose collaborators are just its runtime's clients."""
    return runtime


@dataclass(frozen=True)
class ServiceDefinition(Generic[SettingsT, CollaboratorsT]):
    """Everything that makes a service different from the next one."""

    name: str
    title: str
    package: str  # its migrations live in <package>/migrations
    # Builds the service's collaborators once per process, from its running clients: every
    # consumer, worker and route gets these (no collaborator made on first use elsewhere).
    bootstrap: Callable[[Runtime[SettingsT]], CollaboratorsT]
    # The service's own projection of people, asked whether a caller is an active person of
    # their tenant (canopy_common.members): every route of ``routers`` requires it.
    people: Callable[[asyncpg.Pool], PersonDirectory]
    routers: Sequence[APIRouter] = ()
    # Routes a platform or tenant admin calls to provision tenants and people: the token is
    # verified and its roles checked by the routes, but the caller need not be a person of
    # the tenant (docs/architecture.md §8).
    provisioning_routers: Sequence[APIRouter] = ()
    consumers: Sequence[ConsumerSpec[CollaboratorsT]] = ()
    # Factories of the background workers, run in worker and all modes (never in api mode).
    workers: Sequence[Callable[[CollaboratorsT], BackgroundWorker]] = ()
    # Factories of workers the HTTP API needs (e.g. a buffer of outgoing records): run in api
    # and all modes.
    api_workers: Sequence[Callable[[CollaboratorsT], BackgroundWorker]] = ()
    # Run once in every mode after the collaborators are built, before consumers and workers
    # start (e.g. checking that a server is configured as the service needs).
    on_start: Sequence[Callable[[CollaboratorsT], Awaitable[None]]] = ()
    # The budget of each route that is not what its method says (GET: reads, else writes),
    # keyed by canopy_common.rate_limits.route_key: {"GET /v1/users": RouteClass.SEARCH}.
    route_classes: Mapping[str, RouteClass] = field(default_factory=dict)
    # Queries run as canopy_common.row_security.APP_ROLE, so the policies its migrations put
    # on tenant-owned tables hold (docs/architecture.md §15).
    row_level_security: bool = False
    # Postgres settings of the service's own connections (``SET`` at connect), beside those
    # every service gets (canopy_common.db.create_pool).
    session_settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Running(Generic[SettingsT, CollaboratorsT]):
    """A started service: its clients and the collaborators its bootstrap built from them."""

    runtime: Runtime[SettingsT]
    collaborators: CollaboratorsT


async def migrate(definition: ServiceDefinition[Any, Any], settings: ServiceSettings) -> list[str]:
    """Apply the service's pending migrations to its own schema; return those applied."""
    pool = await create_pool(settings.postgres, schema=settings.db_schema)
    try:
        applied = await apply_migrations(
            pool, schema=settings.db_schema, migrations=load_migrations(definition.package)
        )
        if definition.row_level_security:
            async with pool.acquire() as conn:
                await grant_app_role(conn, settings.db_schema)
        return applied
    finally:
        await close_pool(pool)


async def _retrying(what: str, connect: Callable[[], Awaitable[Any]]) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_RETRY_S
    delay = 0.5
    while True:
        try:
            return await connect()
        except (TimeoutError, OSError, asyncpg.PostgresError, ConnectionError) as exc:
            if loop.time() + delay > deadline:
                raise
            log.warning("dependency not ready, retrying", dependency=what, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _connect_broker(
    settings: ServiceSettings, producer: Producer, consumers: Sequence[Consumer]
) -> None:
    """Create the topics and start the shared producer, retrying with backoff until it works;
    then start the consumers (after the topics: a consumer's metadata request would otherwise
    create them with the broker's defaults). The consumers start only once the broker's
    metadata lists their topics: a fresh broker may answer before it does, and a consumer
    that joins without them is assigned nothing until its metadata refresh, minutes later."""
    subscribed = sorted({topic for consumer in consumers for topic in consumer.topics})
    attempt = 0
    while True:
        try:
            await ensure_topics(settings.kafka)
            await producer.start()
            for topic in subscribed:
                await producer.partitions_for(topic)  # waits for the topic's metadata
        except Exception as exc:
            attempt += 1
            delay = backoff_s(settings.kafka, attempt)
            log.warning(
                "broker not reachable, retrying",
                error=f"{type(exc).__name__}: {exc}",
                attempt=attempt,
                backoff_s=round(delay, 3),
            )
            await asyncio.sleep(delay)
        else:
            if attempt:
                log.info("broker reachable", attempts=attempt + 1)
            break
    for consumer in consumers:
        await consumer.start()


def _connection_init(
    definition: ServiceDefinition[Any, Any], settings: ServiceSettings
) -> Callable[[asyncpg.Connection[asyncpg.Record]], Awaitable[None]] | None:
    """What each new pooled connection runs: the app role under row-level security, the
    statement counter when ``CANOPY_PG_COUNT_STATEMENTS`` is on."""
    steps: list[Callable[[asyncpg.Connection[asyncpg.Record]], Awaitable[None]]] = []
    if definition.row_level_security:
        steps.append(assume_app_role)
    if settings.postgres.count_statements:
        steps.append(StatementCounter(definition.name).attach)
    if not steps:
        return None

    async def each(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        for step in steps:
            await step(conn)

    return each


@asynccontextmanager
async def open_runtime(
    definition: ServiceDefinition[SettingsT, CollaboratorsT], settings: SettingsT, mode: Mode
) -> AsyncIterator[Running[SettingsT, CollaboratorsT]]:
    """Build and start every client of the service, bootstrap its collaborators, start its
    consumers and workers; stop and close them all in reverse order."""
    await _retrying("postgres", lambda: migrate(definition, settings))
    init = _connection_init(definition, settings)
    pool = await _retrying(
        "postgres",
        lambda: create_pool(
            settings.postgres,
            schema=settings.db_schema,
            init=init,
            session_settings=definition.session_settings,
        ),
    )
    redis = create_redis(settings.redis)
    producer = Producer(settings.kafka)
    consumers: list[Consumer] = []
    workers: list[BackgroundWorker] = []
    broker: asyncio.Task[None] | None = None
    try:
        runtime = Runtime(
            settings=settings,
            pool=pool,
            redis=redis,
            producer=producer,
            consumers=consumers,
            workers=workers,
            members=Members(definition.people(pool), ttl_s=settings.member_cache_s),
        )
        collaborators = definition.bootstrap(runtime)
        for hook in definition.on_start:
            await hook(collaborators)
        if mode is not Mode.API:
            for spec in definition.consumers:
                consumers.append(
                    Consumer(
                        settings.kafka,
                        topics=spec.topics(settings),
                        group_id=spec.group_id(settings),
                        handler=spec.handler(collaborators),
                        batch_handler=(
                            spec.batch_handler(collaborators) if spec.batch_handler else None
                        ),
                        whole_fetch=spec.whole_fetch,
                        producer=producer,
                        service=definition.name,
                    )
                )
        # The broker may answer later than the service starts: after a short wait the service
        # serves anyway (``/readyz`` says what is missing; the producer raises a transient
        # error until it is connected) while the topics, the producer and then the consumers
        # are brought up with backoff.
        broker = asyncio.create_task(
            _connect_broker(settings, producer, consumers), name="broker-connect"
        )
        await asyncio.wait({broker}, timeout=BROKER_FIRST_WAIT_S)
        factories = [*definition.workers] if mode is not Mode.API else []
        if mode is not Mode.WORKER:
            factories += definition.api_workers
        for make_worker in factories:
            worker = make_worker(collaborators)
            await worker.start()
            workers.append(worker)
        yield Running(runtime, collaborators)
    finally:
        # SIGTERM: workers finish what they are doing, consumers stop and commit, then close
        # what they all used.
        if broker is not None:
            broker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await broker
        for worker in reversed(workers):
            await worker.stop()
        for consumer in reversed(consumers):
            await consumer.stop()
        await producer.stop()
        await close_redis(redis)
        await close_pool(pool)


def create_service_app(
    definition: ServiceDefinition[SettingsT, CollaboratorsT],
    settings: SettingsT,
    mode: Mode = Mode.ALL,
) -> FastAPI:
    """The service's FastAPI app: its routers (unless worker-only; each route of ``routers``
    requires an active person, :func:`~canopy_common.members.current_member`), health,
    metrics, errors, the request limits (:class:`~canopy_common.limits.RequestLimits`) and the
    request budgets (:mod:`canopy_common.rate_limits`) on every route of its routers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(definition, settings, mode) as running:
            app.state.runtime = running.runtime
            app.state.collaborators = running.collaborators
            install_rate_limits(
                app,
                RateLimiter(running.runtime.redis, settings.rate_limits, service=definition.name),
            )
            log.info("service started", mode=mode.value, port=settings.port)
            yield
        log.info("service stopped")

    app = FastAPI(
        title=definition.title,
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app)
    install_auth(app, settings.auth)
    app.add_middleware(RateLimitHeaders)  # innermost: sees what the route's check left
    # Added first so it runs inside HttpMetrics: refused requests are counted too.
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
    )
    app.add_middleware(HttpMetrics, service=definition.name)
    app.include_router(health_router())  # never rate-limited: probes and scrapes
    if mode is not Mode.WORKER:
        # Attached here, not route by route, so no route can forget who may act or its budget.
        budget = Depends(rate_limit_dependency(definition.route_classes))
        for router in definition.routers:
            app.include_router(router, dependencies=[Depends(current_member), budget])
        for router in definition.provisioning_routers:
            app.include_router(router, dependencies=[budget])
    return app


def run_cli(
    definition: ServiceDefinition[SettingsT, CollaboratorsT],
    load_settings: Callable[[], SettingsT],
    argv: Sequence[str] | None = None,
) -> int:
    """``python -m canopy_<svc> [api|worker|all|migrate]``: the only place settings load."""
    parser = argparse.ArgumentParser(prog=f"python -m canopy_{definition.name}")
    parser.add_argument(
        "mode", nargs="?", default=Mode.ALL.value, choices=[*(m.value for m in Mode), "migrate"]
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as exc:
        # An operator's mistake, not a crash: say which settings are wrong, without a traceback.
        print(f"canopy_{definition.name}: invalid settings", file=sys.stderr)
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            print(f"  {where}: {error['msg']}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json=settings.log_json, service=definition.name)
    if args.mode == "migrate":
        applied = asyncio.run(migrate(definition, settings))
        log.info("migrations applied", schema=settings.db_schema, versions=applied)
        return 0
    mode = Mode(args.mode)
    port = settings.port
    if mode is Mode.WORKER:
        port = settings.worker_port or settings.port + 100
    elif settings.api_processes > 1:

        def make_app(first: bool) -> FastAPI:  # only the first runs consumers and workers
            return create_service_app(definition, settings, mode if first else Mode.API)

        return serve_processes(make_app, settings, port, settings.api_processes)
    app = create_service_app(definition, settings, mode)
    uvicorn.run(app, **uvicorn_options(settings, port))
    return 0
