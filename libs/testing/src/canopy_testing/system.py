"""The whole system as ``make up`` runs it, for end-to-end tests, kept apart from everything
else on the machine, and a client that talks to it only as clients and upstream systems do.

:func:`running_system` starts Postgres, Redis, the broker (reusing what answers) and the four
services under supervisord with :class:`~canopy_dev.localrun.LocalSystem`, on free ports, with
topics, consumer groups and a Postgres database of their own: a developer's ``make up``
(ports 8001-8004, topics ``canopy.*``) or another test session on the same servers never sees
its records, rows or commits. Redis has no prefix setting, but every key the services write
holds the tenant, so a fresh tenant per test keeps tests apart there too.

:class:`SystemClient` speaks HTTP to the services (local HS256 tokens, as ``make token``) and
publishes AS2 records on the upstream topic.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import httpx
import orjson
from aiokafka.admin import AIOKafkaAdminClient

from canopy_common.iris import user_iri
from canopy_common.kafka import Delivery, Producer
from canopy_common.kafka_security import client_security
from canopy_common.settings import AuthSettings, KafkaSettings
from canopy_dev.devstack import dsn_with_database
from canopy_dev.devstack.processes import proc_start_ticks, run_coroutine
from canopy_dev.localrun import STATE_FILE as SERVICES_STATE_FILE
from canopy_dev.localrun import LocalSystem
from canopy_dev.ports import SERVICE_PORTS
from canopy_testing.http import bearer, free_port
from canopy_testing.polling import eventually

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
CONNECT_TIMEOUT_S = 10.0


def isolated_environment(run_id: str, pg_dsn: str, ports: Mapping[str, int]) -> dict[str, str]:
    """The ``CANOPY_*`` variables that give one system its own database (on the server of
    ``pg_dsn``), topics, consumer groups and HTTP ports."""
    env = {"CANOPY_PG_DSN": dsn_with_database(pg_dsn, f"canopy_e2e_{run_id}")}
    for field, info in KafkaSettings.model_fields.items():
        if field.startswith("topic_"):  # canopy.upstream.v1 → e2e.<run>.upstream.v1
            name = str(info.default).removeprefix("canopy.")
            env[f"CANOPY_KAFKA_{field.upper()}"] = f"e2e.{run_id}.{name}"
    for service, port in ports.items():
        env[f"CANOPY_{service.upper()}_PORT"] = str(port)
        env[f"CANOPY_{service.upper()}_CONSUMER_GROUP"] = f"e2e-{run_id}-{service}"
    return env


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set, restored exactly afterwards (``LocalSystem.up`` edits
    it too: it points the services at the stack and puts this interpreter first on PATH)."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class RunningSystem:
    """Where the started system answers, the names it uses, and where its services log."""

    ports: dict[str, int]
    kafka: KafkaSettings
    auth: AuthSettings
    pg_dsn: str
    consumer_groups: dict[str, str]
    log_path: Path

    def url(self, service: str, path: str = "") -> str:
        """``http://127.0.0.1:<port><path>`` of one service."""
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def processes(self) -> dict[int, ProcessIdentity]:
        """supervisord and every process under it (the services), by pid, as they run now.

        A service supervisord restarted has a new pid and start time, so the same snapshot
        before and after a test says no service exited or was restarted meanwhile.
        """
        state = orjson.loads((self.log_path.parent / SERVICES_STATE_FILE).read_bytes())
        found = {}
        for pid in [state["pid"], *_descendants(state["pid"])]:
            identity = _identity(pid)
            if identity is not None:
                found[pid] = identity
        return found


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as ``/proc`` shows it: when it started (clock ticks since boot) and what runs."""

    start_ticks: int
    command: str


def _identity(pid: int) -> ProcessIdentity | None:
    ticks = proc_start_ticks(pid)
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return None
    return ProcessIdentity(ticks, command) if ticks is not None else None


def _descendants(root: int) -> list[int]:
    """Every process whose chain of parents leads to ``root``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited meanwhile
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])  # after "pid (comm) state"
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return sorted(found)


@contextmanager
def running_system(
    repo_root: Path,
    run_dir: Path,
    pg_dsn: str,
    extra_env: Mapping[str, str] | None = None,
    services: Sequence[str] | None = None,
) -> Iterator[RunningSystem]:
    """Start the whole system isolated (see the module doc) and stop it afterwards, always:
    the services, the servers it started (none when they were running), then its database and
    topics are removed. ``pg_dsn`` names the Postgres server to use; ``extra_env`` adds
    settings for the services; ``services`` starts only those (default: all four)."""
    run_id = uuid.uuid4().hex[:10]
    ports = {name: free_port() for name in (services or SERVICE_PORTS)}
    env = isolated_environment(run_id, pg_dsn, ports) | dict(extra_env or {})
    with patched_environ(env):
        local = LocalSystem(run_dir, repo_root)  # reads the stack's settings now
        running = RunningSystem(
            ports=ports,
            kafka=KafkaSettings(),
            auth=AuthSettings(),
            pg_dsn=env["CANOPY_PG_DSN"],
            consumer_groups={s: env[f"CANOPY_{s.upper()}_CONSUMER_GROUP"] for s in ports},
            log_path=run_dir / "services.log",
        )
    try:
        with patched_environ(env):
            local.up(services)
        yield running
    finally:
        try:
            local.down()
        finally:
            run_coroutine(_remove_names(running))


async def _remove_names(system: RunningSystem) -> None:
    """Drop the system's database and delete its topics (the broker may be shared). Its
    consumer groups stay, empty, as the broker keeps them."""
    database = urlsplit(system.pg_dsn).path.lstrip("/")
    conn = await asyncpg.connect(
        dsn_with_database(system.pg_dsn, "postgres"), timeout=CONNECT_TIMEOUT_S
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=system.kafka.bootstrap_servers, **client_security(system.kafka)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if ours := [t for t in system.kafka.all_topics() if t in existing]:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


def upstream_activity(tenant: str, actor: str, type_: str, obj: Any, **more: Any) -> dict[str, Any]:
    """A strict-profile AS2 activity as an upstream system publishes it; ``actor`` is a user
    id of ``tenant`` (a person, or the bot the tenant provisioned for that system)."""
    return {
        "@context": AS2_CONTEXT,
        "id": f"https://upstream.example/events/{uuid.uuid4()}",
        "type": type_,
        "actor": user_iri(tenant, actor),
        "object": obj,
        "published": datetime.now(UTC).isoformat(),
        "tenant": tenant,
        "source": "workday",
        **more,
    }


def person(tenant: str, user_id: str, name: str, **profile: Any) -> dict[str, Any]:
    """An AS2 Person as an HR system sends it (handle = ``user_id``)."""
    return {
        "type": "Person",
        "id": user_iri(tenant, user_id),
        "preferredUsername": user_id,
        "name": name,
        **profile,
    }


# A read of each service that acts as a person and changes nothing: 200 once it knows them.
_KNOWN_AT = (
    ("fanout", "/v1/markers"),
    ("notify", "/v1/notification-mutes"),
    ("analytics", "/v1/people/suggestions"),
)


# uvicorn closes a kept-alive connection after 5 s idle (its timeout_keep_alive) and httpx
# keeps one for 5 s too: a request sent on a connection the server is closing at that moment
# fails with ReadError (it did, in CI and in the benchmarks' set-up). A client of the system
# keeps its idle connections for less.
KEEPALIVE_EXPIRY_S = 2.0


def client_limits(max_connections: int | None = 100) -> httpx.Limits:
    """The connection limits of an HTTP client of the system (see :data:`KEEPALIVE_EXPIRY_S`)."""
    return httpx.Limits(max_connections=max_connections, keepalive_expiry=KEEPALIVE_EXPIRY_S)


class SystemClient:
    """Everything a test does to the system: HTTP calls with local tokens, upstream records."""

    def __init__(self, system: RunningSystem, http: httpx.AsyncClient, producer: Producer):
        self.system = system
        self.http = http
        self.producer = producer

    def headers(self, tenant: str, user: str, *roles: str) -> dict[str, str]:
        """A bearer token for ``user`` of ``tenant`` (roles default to ``member``)."""
        return bearer(self.system.auth, tenant, user, *roles)

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        tenant: str,
        user: str,
        *roles: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """One request to ``service`` as ``user``."""
        return await self.http.request(
            method,
            self.system.url(service, path),
            headers=self.headers(tenant, user, *roles),
            json=json,
            params=params,
        )

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        tenant: str,
        user: str,
        *roles: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """A request that must succeed; its JSON body (``None`` when empty)."""
        response = await self.request(
            service, method, path, tenant, user, *roles, json=json, params=params
        )
        assert response.is_success, (
            f"{method} {service}{path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    async def provision(self, tenant: str, *people: str, bots: tuple[str, ...] = ()) -> None:
        """Provision ``tenant`` with employees ``people`` and system actors ``bots``, and wait
        until fan-out, notify and analytics (those running) know the people: only a person a
        service knows may call it, and no one's activities are ordered against another's (a
        post right behind a profile could be fanned out first)."""
        await self.call(
            "ingestion", "PUT", f"/v1/tenants/{tenant}", tenant, "root", "platform_admin",
            json={"name": tenant},
        )  # fmt: skip
        for user, kind in [(p, "employee") for p in people] + [(b, "bot") for b in bots]:
            profile = {"handle": user, "display_name": user.title(), "kind": kind}
            await self.call(
                "ingestion", "PUT", f"/v1/users/{user}", tenant, "admin", "tenant_admin",
                json=profile,
            )  # fmt: skip
        for user in people:
            await eventually(partial(self._known_everywhere, tenant, user), what=f"{user} known")

    async def _known_everywhere(self, tenant: str, user: str) -> bool:
        # Asked as `user`, with reads that change nothing: each service answers a person only
        # once it holds them as active (403 before, docs/architecture.md §8).
        for service, path in _KNOWN_AT:
            if service not in self.system.ports:  # a system of some services only (bench)
                continue
            if (await self.request(service, "GET", path, tenant, user)).status_code != 200:
                return False
        return True

    async def post(self, tenant: str, author: str, content: str, **fields: Any) -> Any:
        """``POST /v1/posts`` as ``author`` (``group_id``, ``visibility``, ...); the post."""
        body = {"content": content, **fields}
        return await self.call("ingestion", "POST", "/v1/posts", tenant, author, json=body)

    async def create_group(self, tenant: str, owner: str, name: str, visibility: str) -> Any:
        """``POST /v1/groups`` as ``owner``; the group (its ``id``)."""
        body = {"name": name, "visibility": visibility}
        return await self.call("ingestion", "POST", "/v1/groups", tenant, owner, json=body)

    async def join(self, tenant: str, group_id: str, user: str, *, by: str | None = None) -> Any:
        """``user`` joins the group (or, ``by`` an admin, is added); the membership."""
        path = f"/v1/groups/{group_id}/members/{user}"
        return await self.call("ingestion", "PUT", path, tenant, by or user)

    async def follow(self, tenant: str, follower: str, followee: str) -> None:
        await self.call("ingestion", "PUT", f"/v1/follows/{followee}", tenant, follower)

    async def publish_upstream(self, record: Mapping[str, Any] | bytes, *, key: str) -> Delivery:
        """Publish one record on the upstream topic (a mapping as JSON, bytes as they are)."""
        value = record if isinstance(record, bytes) else orjson.dumps(record)
        return await self.producer.send(self.system.kafka.topic_upstream, value, key=key)

    async def notifications(self, tenant: str, user: str, **params: Any) -> list[dict[str, Any]]:
        """The first page of ``user``'s notifications, newest first."""
        page = await self.call("notify", "GET", "/v1/notifications", tenant, user, params=params)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def feed(self, path: str, tenant: str, user: str) -> list[dict[str, Any]]:
        """The first page of a feed (``/v1/feeds/...``) as ``user`` reads it."""
        page = await self.call("fanout", "GET", path, tenant, user)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def feed_holds(self, path: str, tenant: str, user: str, object_id: str) -> bool:
        """Whether ``user``'s first page of a feed holds the post ``object_id``; False while
        the feed answers 404 (fan-out has not heard of its group, or of the membership, yet)."""
        page = await self.request("fanout", "GET", path, tenant, user)
        items = page.json()["items"] if page.status_code == 200 else []
        return any(item["object"]["id"] == object_id for item in items)
