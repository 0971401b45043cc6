"""Every route of a service under a dependency outage, and how long it takes to recover
(docs/architecture.md §9).

The service reaches Postgres and Redis through a :class:`TcpProxy` of the test's own: cutting
the proxy is an outage for that service only (the shared servers stay up), and restoring it on
the same port ends it, so recovery can be timed. :func:`route_calls` walks the app's routes
(its OpenAPI document, which FastAPI builds from ``app.routes``) and fills each one in with
plausible values; :func:`call_all` calls them all as a member of a new tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
from fastapi import FastAPI

from canopy_common.db import Connection, close_pool, create_pool
from canopy_common.service import Mode
from canopy_common.settings import ServiceSettings
from canopy_dev.devstack.probes import free_port
from canopy_testing.factories import new_tenant_id
from canopy_testing.http import bearer
from canopy_testing.outages import api_of

_Settings = TypeVar("_Settings", bound=ServiceSettings)

# Routes that report on the dependencies rather than suffer their outage.
OPERATIONS = frozenset({"GET /healthz", "GET /readyz"})
# A route still answering after this long is a stream that opened (e.g. server-sent events).
STREAM_WAIT_S = 2.0
# How often recovery is probed once a dependency is back.
RECOVERY_POLL_S = 0.05


class TcpProxy:
    """A TCP proxy on a local port to ``target`` (host, port): :meth:`cut` closes every
    connection and refuses new ones (an outage), :meth:`restore` listens again on the same
    port."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        """Listen (on a free port the first time, on the same one after :meth:`cut`)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every connection: clients see resets, then refusals."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        """Accept connections again, on the same port."""
        await self.start()

    def url(self, url: str) -> str:
        """``url`` (a DSN) pointed at the proxy instead of its own host and port."""
        parts = urlsplit(url)
        netloc = re.sub(r"@?[^@]*$", "", parts.netloc)
        netloc = f"{netloc}@127.0.0.1:{self.port}" if netloc else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            self._pipes.discard(task)
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except asyncio.CancelledError:
            pass
        finally:
            for w in (writer, up_writer):
                w.transport.abort()
            self._pipes.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError, RuntimeError):
        writer.write_eof()


@dataclass(frozen=True)
class RouteCall:
    """One route (``"METHOD /template"``) and the request that tries it."""

    route: str
    method: str
    path: str
    body: Any = None


def route_calls(
    app: FastAPI,
    *,
    path_values: Mapping[str, str],
    bodies: Mapping[str, Any],
    query_values: Mapping[str, str] | None = None,
) -> list[RouteCall]:
    """A request for every route of ``app`` but :data:`OPERATIONS`: path parameters from
    ``path_values`` and required query parameters from ``query_values`` (by name), bodies from
    ``bodies`` (by ``"METHOD /template"``). A route whose parameter or body is not given fails
    here, so a new route cannot go untried."""
    queries = query_values or {}
    calls = []
    for template, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            route = f"{method.upper()} {template}"
            if route in OPERATIONS:
                continue
            names = re.findall(r"{(\w+)}", template)
            required = [
                p["name"]
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            ]
            missing = [n for n in names if n not in path_values]
            missing += [n for n in required if n not in queries]
            assert not missing, f"{route}: no plausible value for {missing}"
            assert "requestBody" not in operation or route in bodies, f"{route}: no body"
            path = template.format(**{n: path_values[n] for n in names})
            if required:
                path += "?" + urlencode({n: queries[n] for n in required})
            calls.append(RouteCall(route, method.upper(), path, bodies.get(route)))
    return calls


@dataclass
class Answer:
    """What a route answered: its status, and whether it was a dependency outage (503
    problem+json with ``Retry-After``)."""

    status: int
    outage: bool
    text: str = field(repr=False, default="")


async def call(
    client: httpx.AsyncClient, auth: Any, tenant: str, route: RouteCall, *roles: str
) -> Answer:
    """Try ``route`` as user ``ada`` of ``tenant`` with ``roles`` (default member)."""
    request = client.request(
        route.method,
        route.path,
        headers=bearer(auth, tenant, "ada", *roles),
        json=route.body,
    )
    try:
        response = await asyncio.wait_for(request, STREAM_WAIT_S)
    except TimeoutError:
        return Answer(200, False, "a stream opened")
    outage = (
        response.status_code == 503
        and response.headers.get("content-type", "").startswith("application/problem+json")
        and int(response.headers.get("retry-after", "0")) > 0
        and response.json().get("type", "").endswith("/dependency-unavailable")
    )
    return Answer(response.status_code, outage, response.text[:300])


async def call_all(
    client: httpx.AsyncClient, auth: Any, tenant: str, calls: list[RouteCall], *roles: str
) -> dict[str, Answer]:
    """:func:`call` for every route, one after another."""
    return {c.route: await call(client, auth, tenant, c, *roles) for c in calls}


async def recovery_s(
    answered_normally: Callable[[], Awaitable[bool]], *, timeout_s: float = 60.0
) -> float:
    """Seconds until ``answered_normally()`` (every route answers as before the outage)."""
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while not await answered_normally():  # noqa: ASYNC110 - polls the service
            await asyncio.sleep(RECOVERY_POLL_S)
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def proxied(host: str, port: int) -> AsyncIterator[TcpProxy]:
    """A started :class:`TcpProxy` to ``host:port``, cut when the block ends."""
    proxy = TcpProxy(host, port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.cut()


# Readies a served app for the caller: ``prepare(client, tenant)``.
Prepare = Callable[[httpx.AsyncClient, str], Awaitable[None]]


def in_own_projection(
    settings: ServiceSettings, write: Callable[[Connection, str], Awaitable[object]]
) -> Prepare:
    """A ``prepare`` for :func:`run_outages` that makes the caller, ada, an active person in
    the service's own projection: ``write(conn, tenant)`` on a pool of its own on the
    service's schema (the API alone runs no consumer to apply her Create), so routes get past
    who may act."""

    async def prepare(client: httpx.AsyncClient, tenant: str) -> None:
        pool = await create_pool(settings.postgres, schema=settings.db_schema)
        try:
            async with pool.acquire() as conn:
                await write(conn, tenant)
        finally:
            await close_pool(pool)

    return prepare


@dataclass
class OutageRun:
    """Every route tried with everything up (``normal``), with Postgres, Redis and the broker
    each down (``during``), and the seconds until every route answered as before once
    Postgres or Redis was back (``recovery_s``)."""

    normal: dict[str, Answer]
    during: dict[str, dict[str, Answer]] = field(default_factory=dict)
    recovery_s: dict[str, float] = field(default_factory=dict)

    def outages(self, down: str) -> set[str]:
        """The routes that answered 503 problem+json with Retry-After while ``down`` was."""
        return {route for route, answer in self.during[down].items() if answer.outage}

    def unchanged(self, down: str) -> set[str]:
        """The routes that answered as normal while ``down`` was."""
        return {
            route
            for route, answer in self.during[down].items()
            if answer.status == self.normal[route].status and not answer.outage
        }

    def figures(self, service: str) -> str:
        """One line per outage: routes tried, statuses seen, recovery time."""
        lines = []
        for down, answers in self.during.items():
            statuses: dict[int, int] = {}
            for answer in answers.values():
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
            recovery = self.recovery_s.get(down)
            lines.append(
                f"{service}: {down} down: {len(answers)} routes, statuses "
                + ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items()))
                + (
                    f"; every route normal again {recovery:.2f} s after it returned"
                    if recovery is not None
                    else ""
                )
            )
        return "\n".join(lines)


async def run_outages(
    settings: _Settings,
    create_app: Callable[[_Settings, Mode], FastAPI],
    pg_pool: asyncpg.Pool,
    *roles: str,
    path_values: Mapping[str, str],
    bodies: Mapping[str, Any],
    query_values: Mapping[str, str] | None = None,
    prepare: Prepare | None = None,
) -> OutageRun:
    """Serve the service's API with Postgres and Redis behind proxies; try every route
    (:func:`route_calls` with ``path_values``, ``bodies`` and ``query_values``) normally, then
    with Postgres, then Redis cut (timing the recovery once each is restored), then on an app
    whose broker is a port nothing listens on. Each app gets ``prepare(client, tenant)`` first
    (e.g. provisioning the caller), and one pass of every route before the pass that counts
    (so first writes are behind it)."""
    tenant = new_tenant_id()
    pg = urlsplit(settings.postgres.dsn)
    rd = urlsplit(settings.redis.url)
    async with (
        proxied(pg.hostname or "127.0.0.1", pg.port or 5432) as pg_proxy,
        proxied(rd.hostname or "127.0.0.1", rd.port or 6379) as redis_proxy,
    ):
        proxied_settings = settings.model_copy(
            update={
                "postgres": settings.postgres.model_copy(
                    update={"dsn": pg_proxy.url(settings.postgres.dsn)}
                ),
                "redis": settings.redis.model_copy(
                    update={"url": redis_proxy.url(settings.redis.url)}
                ),
            }
        )
        async with api_of(proxied_settings, create_app, pg_pool) as (app, client):
            calls = route_calls(
                app, path_values=path_values, bodies=bodies, query_values=query_values
            )
            auth = settings.auth
            if prepare is not None:
                await prepare(client, tenant)
            await call_all(client, auth, tenant, calls, *roles)  # first writes happen here
            run = OutageRun(await call_all(client, auth, tenant, calls, *roles))

            async def normal_again() -> bool:
                answers = await call_all(client, auth, tenant, calls, *roles)
                return all(a.status == run.normal[r].status for r, a in answers.items())

            for down, proxy in (("postgres", pg_proxy), ("redis", redis_proxy)):
                await proxy.cut()
                run.during[down] = await call_all(client, auth, tenant, calls, *roles)
                await proxy.restore()
                run.recovery_s[down] = await recovery_s(normal_again)
    dead_broker = settings.model_copy(
        update={
            "kafka": settings.kafka.model_copy(
                update={"bootstrap_servers": f"127.0.0.1:{free_port()}"}
            )
        }
    )
    async with api_of(dead_broker, create_app, pg_pool) as (app, client):
        if prepare is not None:
            await prepare(client, tenant)
        await call_all(client, settings.auth, tenant, calls, *roles)
        run.during["broker"] = await call_all(client, settings.auth, tenant, calls, *roles)
    return run
