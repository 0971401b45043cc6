"""``social``: the read side's heavy reads (docs/architecture.md §16) at a fixed rate.

Ingestion runs as ``make up`` runs it (:func:`bench.system.bench_system`), alone, with
``CANOPY_PG_COUNT_STATEMENTS`` on. One tenant is made through the write API, except the crowd's
profiles (:data:`CROWD` people, written straight into ingestion's ``users`` table with
``COPY``: provisioning them one by one would be most of the run and measures nothing here):

- a question with :data:`THREAD_REPLIES` replies (answers and replies to them, by the crowd);
- :data:`DIRECTORY_GROUPS` groups, one of which the first :data:`GROUP_MEMBERS` of the crowd join;
- one person whom all :data:`CROWD` of the crowd follow.

Then ``hey`` (Debian's) offers :data:`RATE_RPS` requests/s for :data:`DURATION_S` to each route,
one after the other, as one reader: ``social.<read>.p50_ms`` / ``.p99_ms``, ``.achieved_rps``,
``.statements`` (SQL statements per request, ``BEGIN`` and ``COMMIT`` included, from the
service's ``canopy_ingestion_db_statements_total`` for that route) and ``.cpu_us`` (CPU of the
ingestion processes per request; hey's own is not counted).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
import httpx

from bench.figures import Figure, JSONScalar
from bench.harness import BenchContext, Benchmark
from bench.reads import HEY, load_figures, offer
from bench.system import BenchSystem, bench_system, progress, service_cpu_s, started

SERVICES: Final = ("ingestion",)
THREAD_REPLIES: Final = 200
GROUP_MEMBERS: Final = 5_000
CROWD: Final = 10_000  # followers of one person; the first GROUP_MEMBERS also join the group
DIRECTORY_GROUPS: Final = 200
SETUP_CONCURRENCY: Final = 24
RATE_RPS: Final = 50  # offered per read: well inside what one API process answers
HEY_WORKERS: Final = 10
DURATION_S: Final = 10
WARMUP_REQUESTS: Final = 20


@dataclass(frozen=True)
class Read:
    """One measured read: its name in the figures, its route template and a concrete path."""

    name: str
    route: str
    path: str


async def run(ctx: BenchContext) -> list[Figure]:
    if not shutil.which(HEY):
        raise RuntimeError(f"{HEY} is missing: scripts/setup.sh installs it (apt)")
    env = {"CANOPY_PG_COUNT_STATEMENTS": "true"}
    async with bench_system(ctx, SERVICES, env) as system:
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        began = time.monotonic()
        reads = await populate(system, tenant)
        setup_s = round(time.monotonic() - began, 1)
        token = system.client.headers(tenant, "rita")["Authorization"]
        figures: list[Figure] = []
        for read in reads:
            progress(f"hey: {read.name} at {RATE_RPS}/s")
            figures += await measure(system, read, token, setup_s)
    return figures


# --- setup ----------------------------------------------------------------------------------


async def populate(system: BenchSystem, tenant: str) -> list[Read]:
    """The tenant, its thread, groups and crowd; the reads to measure on them."""
    client = system.client
    await client.call(
        "ingestion", "PUT", f"/v1/tenants/{tenant}", tenant, "root", "platform_admin",
        json={"name": tenant},
    )  # fmt: skip
    for user in ("olga", "rita", "ana"):
        await client.call(
            "ingestion", "PUT", f"/v1/users/{user}", tenant, "admin", "tenant_admin",
            json={"handle": user, "display_name": user.title(), "kind": "employee"},
        )  # fmt: skip
    crowd = [f"p{i:05d}" for i in range(CROWD)]
    progress(f"populating: {CROWD:,} profiles (COPY)")
    await _copy_profiles(system.running.pg_dsn, tenant, crowd)
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def as_(user: str, method: str, path: str, body: Any = None) -> Any:
        async with gate:
            return await client.call("ingestion", method, path, tenant, user, json=body)

    progress(f"populating: a question with {THREAD_REPLIES} replies")
    question = await as_("ana", "POST", "/v1/posts", {"content": "How?", "kind": "question"})
    answers = await asyncio.gather(
        *(
            as_(
                crowd[i],
                "POST",
                "/v1/posts",
                {
                    "content": f"Answer {i}",
                    "kind": "answer",
                    "in_reply_to": question["id"],
                },
            )
            for i in range(THREAD_REPLIES // 2)
        )
    )
    await asyncio.gather(
        *(
            as_(
                crowd[THREAD_REPLIES + i],
                "POST",
                "/v1/posts",
                {
                    "content": f"Reply {i}",
                    "in_reply_to": answers[i % len(answers)]["id"],
                },
            )
            for i in range(THREAD_REPLIES - len(answers))
        )
    )
    progress(f"populating: {DIRECTORY_GROUPS} groups, {GROUP_MEMBERS:,} members of one")
    groups = await asyncio.gather(
        *(
            as_("olga", "POST", "/v1/groups", {"name": f"Group {i:03d}", "visibility": "public"})
            for i in range(DIRECTORY_GROUPS)
        )
    )
    big = groups[0]["id"]
    await asyncio.gather(
        *(as_(u, "PUT", f"/v1/groups/{big}/members/{u}") for u in crowd[:GROUP_MEMBERS])
    )
    progress(f"populating: {CROWD:,} followers of one person")
    await asyncio.gather(*(as_(u, "PUT", "/v1/follows/ana") for u in crowd))
    return [
        Read("context", "/v1/posts/{post_id}/context", f"/v1/posts/{question['id']}/context"),
        Read("groups.directory", "/v1/groups", "/v1/groups"),
        Read("groups.members", "/v1/groups/{group_id}/members", f"/v1/groups/{big}/members"),
        Read("followers", "/v1/users/{user_id}/followers", "/v1/users/ana/followers"),
    ]


async def _copy_profiles(dsn: str, tenant: str, people: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "users",
            schema_name="ingestion",
            columns=["tenant_id", "id", "handle", "display_name", "kind"],
            records=[(tenant, p, p, f"Person {p}", "employee") for p in people],
        )
    finally:
        await conn.close()


# --- measurement ----------------------------------------------------------------------------


async def measure(system: BenchSystem, read: Read, token: str, setup_s: float) -> list[Figure]:
    url = system.url("ingestion", read.path)
    async with httpx.AsyncClient(timeout=30.0) as http:
        first = await http.get(url, headers={"Authorization": token})
        if first.status_code != 200:
            raise AssertionError(f"GET {read.path}: {first.status_code} {first.text[:300]}")
        items = _item_count(first.json())
        for _ in range(WARMUP_REQUESTS):
            await http.get(url, headers={"Authorization": token})
        statements_before = await _statements(http, system, read.route)
        cpu_before = service_cpu_s(system)
        load = await offer(
            url, token, rate_rps=RATE_RPS, duration_s=DURATION_S, workers=HEY_WORKERS
        )
        cpu_s = service_cpu_s(system) - cpu_before
        statements = await _statements(http, system, read.route) - statements_before
    answered = max(load.requests, 1)
    name = f"social.{read.name}"
    params: dict[str, JSONScalar] = {
        **started(system),
        "route": read.route,
        "items_per_response": items,
        "offered_rps": RATE_RPS,
        "duration_s": DURATION_S,
        "thread_replies": THREAD_REPLIES,
        "group_members": GROUP_MEMBERS,
        "followers": CROWD,
        "directory_groups": DIRECTORY_GROUPS,
        "setup_s": setup_s,
        "errors": load.errors,
        "non_2xx": load.non_2xx,
    }
    return [
        *load_figures(name, load, cpu_s, params),
        Figure(f"{name}.statements", statements / answered, "SQL/req", load.requests, params),
    ]


def _item_count(body: Any) -> int:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return len(body["items"])
    if isinstance(body, dict) and isinstance(body.get("descendants"), list):
        return len(body["descendants"]) + len(body.get("ancestors", []))
    raise AssertionError(f"not a page: {str(body)[:300]}")


async def _statements(http: httpx.AsyncClient, system: BenchSystem, route: str) -> float:
    text = (await http.get(system.url("ingestion", "/metrics"))).text
    pattern = (
        r'^canopy_ingestion_db_statements_total\{route="' + re.escape(route) + r'"\} ([0-9.e+]+)$'
    )
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


BENCHMARK = Benchmark(
    "social",
    f"the read side at {RATE_RPS}/s: context of a {THREAD_REPLIES}-reply thread, the group "
    f"directory, members of a {GROUP_MEMBERS:,}-member group, followers of a {CROWD:,}-follower "
    "person; p50/p99, SQL statements and CPU per request",
    run,
)
