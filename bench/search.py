"""``search``: full-text search over :data:`POSTS` posts of one tenant (docs/architecture.md §17).

Ingestion and analytics run as ``make up`` runs them (:func:`bench.system.bench_system`). The
tenant's posts reach analytics through the real stream: canonical ``Create`` activities, made
by the test factories as ingestion publishes them, are published on the system's activities
topic and applied by the analytics stream (writing them through ingestion's HTTP API would
take several times the ~3 minutes the whole load may take on two cores, and measure ingestion).
Their text is drawn from a vocabulary of :data:`VOCABULARY` words with a Zipf-like law, so some
words are in most posts and most words in few; :data:`AUTHORS` authors in :data:`GROUPS`
groups, a tenth of the posts questions. The reader is an employee in half of the groups.

Then ``hey`` offers :data:`RATE_RPS` searches/s for :data:`DURATION_S` for each query of
:data:`QUERIES` (a common word, a rare one, a phrase with an exclusion, a filtered search,
people by name): ``search.<query>.p50_ms`` / ``.p99_ms``, ``.achieved_rps``, ``.matches``
(posts the query matches in the tenant) and ``.cpu_us`` (CPU of the analytics processes per
request). Last, indexing lag: :data:`LAG_POSTS` posts written over HTTP (ingestion) at
:data:`LAG_RATE` per second, each with a word of its own; ``search.lag.p50_ms`` / ``.p99_ms``
is the time from sending the post until ``GET /v1/search`` finds it (polled every
:data:`LAG_POLL_S`).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlencode

import asyncpg
import httpx

from bench.figures import Figure, JSONScalar
from bench.harness import BenchContext, Benchmark
from bench.reads import HEY, LoadRun, load_figures, offer
from bench.system import (
    BenchSystem,
    bench_system,
    progress,
    publish_activities,
    service_cpu_s,
    started,
    wait_consumed,
)
from canopy_common.events import StrictActivity
from canopy_common.iris import user_iri
from canopy_testing.factories import ActivityFactory, subject_id

SERVICES: Final = ("ingestion", "analytics")
POSTS: Final = 100_000
AUTHORS: Final = 500
GROUPS: Final = 40
VOCABULARY: Final = 5_000
WORDS_PER_POST: Final = (15, 60)
DAYS: Final = 365  # posts are spread over the last year
PUBLISH_CHUNK: Final = 2_000
RATE_RPS: Final = 10
HEY_WORKERS: Final = 5
DURATION_S: Final = 20
WARMUP_REQUESTS: Final = 10
LAG_POSTS: Final = 100
LAG_RATE: Final = 10  # posts per second
LAG_POLL_S: Final = 0.05
READER: Final = "rita"
SEQUENTIAL_REQUESTS: Final = 50

# Words every post may hold, most often first (then VOCABULARY made-up ones, rarer and rarer).
_COMMON = [
    "deploy",
    "deployment",
    "release",
    "team",
    "service",
    "database",
    "query",
    "update",
    "migration",
    "review",
    "customer",
    "incident",
    "report",
    "issue",
    "meeting",
    "plan",
    "design",
    "test",
    "build",
    "pipeline",
    "cluster",
    "kubernetes",
    "staging",
    "production",
    "rollback",
    "latency",
    "budget",
    "quarter",
    "roadmap",
    "onboarding",
    "security",
    "access",
    "policy",
    "network",
    "storage",
    "backup",
    "monitoring",
    "alert",
    "dashboard",
    "metric",
    "api",
    "client",
    "server",
    "cache",
    "queue",
]


@dataclass(frozen=True)
class Query:
    name: str
    params: dict[str, str]
    # Offered at RATE_RPS by hey; False: one request after another (SEQUENTIAL_REQUESTS), for
    # a query whose cost at that rate would take more than the machine's two cores.
    at_rate: bool = True


async def run(ctx: BenchContext) -> list[Figure]:
    if not shutil.which(HEY):
        raise RuntimeError(f"{HEY} is missing: scripts/setup.sh installs it (apt)")
    async with bench_system(ctx, SERVICES) as system:
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        began = time.monotonic()
        groups = await populate(system, tenant)
        setup_s = round(time.monotonic() - began, 1)
        token = system.client.headers(tenant, READER)["Authorization"]
        queries = [
            # "deploy" and "deployment" (one stem) are the commonest words: in ~27 % of posts.
            Query("commonest", {"q": "deployment"}, at_rate=False),
            Query("common", {"q": "incident"}),  # in ~12 % of posts
            Query("rare", {"q": _word(random.Random(1), VOCABULARY - 10)}),
            Query("phrase", {"q": '"release team" -staging'}),
            Query("filtered", {"q": "database", "kind": "question", "group_id": groups[0]}),
            Query("people", {"q": "Author 0042", "type": "people"}),
        ]
        figures: list[Figure] = []
        for query in queries:
            how = f"at {RATE_RPS}/s" if query.at_rate else "one after another"
            progress(f"search {query.name} {how}")
            figures += await measure(system, tenant, query, token, setup_s)
        progress(f"indexing lag: {LAG_POSTS} posts at {LAG_RATE}/s")
        figures += await lag(system, tenant, token)
    return figures


# --- setup ----------------------------------------------------------------------------------


def _word(rng: random.Random, rank: int) -> str:
    """The ``rank``-th word of the vocabulary: the common ones, then made-up ones."""
    if rank < len(_COMMON):
        return _COMMON[rank]
    syllables = ("ka", "lo", "mi", "ra", "tu", "zen", "po", "vi", "sha", "dor", "quel", "bri")
    rng = random.Random(rank)  # the same word for the same rank
    return "".join(rng.choice(syllables) for _ in range(4))


def _text(rng: random.Random, vocabulary: Sequence[str], weights: Sequence[float]) -> str:
    count = rng.randint(*WORDS_PER_POST)
    return " ".join(rng.choices(vocabulary, weights, k=count)).capitalize() + "."


async def populate(system: BenchSystem, tenant: str) -> list[str]:
    """The tenant, its reader, authors, groups and posts, applied by analytics; the groups."""
    client = system.client
    await client.call(
        "ingestion", "PUT", f"/v1/tenants/{tenant}", tenant, "root", "platform_admin",
        json={"name": tenant},
    )  # fmt: skip
    await client.call(
        "ingestion", "PUT", f"/v1/users/{READER}", tenant, "admin", "tenant_admin",
        json={"handle": READER, "display_name": "Rita Reader", "kind": "employee"},
    )  # fmt: skip
    f = ActivityFactory(tenant)
    rng = random.Random(18)
    authors = [
        f.user(f"author{i:04d}", user_id=f"a{i:04d}", display_name=f"Author {i:04d}")
        for i in range(AUTHORS)
    ]
    groups = [
        f.group(f"Group {i}", owner=authors[i], visibility=("public", "internal", "private")[i % 3])
        for i in range(GROUPS)
    ]
    reader = user_iri(tenant, READER)
    setup: list[StrictActivity] = [*authors, *groups]
    setup += [f.join(authors[i], g, role="owner") for i, g in enumerate(groups)]
    setup += [f.join(reader, g) for g in groups[::2]]
    vocabulary = [_word(rng, r) for r in range(VOCABULARY)]
    # Zipf-like, as though the 50 commonest words (stop words, which no search looks for)
    # came first: the commonest word here is in about one post in six, most in a handful.
    weights = [1.0 / (r + 50) for r in range(VOCABULARY)]
    now = datetime.now(UTC)
    progress(f"populating: {POSTS:,} posts through the analytics stream")
    await publish_activities(system, setup)
    for start in range(0, POSTS, PUBLISH_CHUNK):
        chunk = [
            f.post(
                authors[rng.randrange(AUTHORS)],
                _text(rng, vocabulary, weights),
                group=groups[rng.randrange(GROUPS)] if rng.random() < 0.5 else None,
                kind="question" if rng.random() < 0.1 else None,
                name=_text(rng, vocabulary, weights)[:60] if rng.random() < 0.1 else None,
                published=now - timedelta(seconds=rng.uniform(0, DAYS * 86_400)),
            )
            for _ in range(min(PUBLISH_CHUNK, POSTS - start))
        ]
        await publish_activities(system, chunk)
    waited = await wait_consumed(system, "analytics", system.kafka.topic_activities, timeout_s=900)
    progress(f"populated; the stream finished {waited:.0f} s after the last record was sent")
    return [subject_id(g) for g in groups]


# --- measurement ----------------------------------------------------------------------------


async def _matches(system: BenchSystem, tenant: str, query: Query) -> int | None:
    if query.params.get("type", "posts") != "posts":
        return None
    conn = await asyncpg.connect(system.running.pg_dsn)
    try:
        filters, args = "", [tenant, query.params["q"]]
        if "kind" in query.params:
            args += [query.params["kind"], query.params["group_id"]]
            filters = " AND kind = $3 AND group_id = $4"
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM analytics.posts WHERE tenant_id = $1 "
                f"AND search @@ websearch_to_tsquery('english', $2){filters}",
                *args,
            )
        )
    finally:
        await conn.close()


async def measure(
    system: BenchSystem, tenant: str, query: Query, token: str, setup_s: float
) -> list[Figure]:
    url = system.url("analytics", "/v1/search?" + urlencode(query.params))
    async with httpx.AsyncClient(timeout=30.0) as http:
        first = await http.get(url, headers={"Authorization": token})
        if first.status_code != 200:
            raise AssertionError(f"GET {url}: {first.status_code} {first.text[:300]}")
        items = len(first.json()["items"])
        for _ in range(WARMUP_REQUESTS):
            await http.get(url, headers={"Authorization": token})
        cpu_before = service_cpu_s(system, "canopy_analytics")
        if query.at_rate:
            load = await offer(
                url, token, rate_rps=RATE_RPS, duration_s=DURATION_S, workers=HEY_WORKERS
            )
        else:
            load = await _sequential(http, url, token)
        cpu_s = service_cpu_s(system, "canopy_analytics") - cpu_before
    name = f"search.{query.name}"
    params: dict[str, JSONScalar] = {
        **started(system),
        "query": urlencode(query.params),
        "posts": POSTS,
        "items_per_response": items,
        "offered_rps": RATE_RPS if query.at_rate else "sequential",
        "duration_s": DURATION_S if query.at_rate else round(load.elapsed_s, 1),
        "setup_s": setup_s,
        "errors": load.errors,
        "non_2xx": load.non_2xx,
    }
    figures = load_figures(name, load, cpu_s, params)
    matches = await _matches(system, tenant, query)
    if matches is not None:
        figures.append(Figure(f"{name}.matches", matches, "posts", 1, params))
    return figures


async def _sequential(http: httpx.AsyncClient, url: str, token: str) -> LoadRun:
    took: list[float] = []
    errors = non_2xx = 0
    began = time.monotonic()
    for _ in range(SEQUENTIAL_REQUESTS):
        start = time.monotonic()
        try:
            answer = await http.get(url, headers={"Authorization": token})
            non_2xx += not answer.is_success
        except httpx.HTTPError:
            errors += 1
        took.append((time.monotonic() - start) * 1000)
    took.sort()
    return LoadRun(
        requests=len(took),
        elapsed_s=time.monotonic() - began,
        p50_ms=statistics.median(took),
        p99_ms=took[min(len(took) - 1, int(len(took) * 0.99))],
        errors=errors,
        non_2xx=non_2xx,
    )


async def lag(system: BenchSystem, tenant: str, token: str) -> list[Figure]:
    """Post over HTTP at a fixed rate; for each, how long until search finds it."""
    client = system.client
    run = uuid.uuid4().hex[:6]
    search_url = system.url("analytics", "/v1/search")

    async def one(i: int, http: httpx.AsyncClient) -> float:
        word = f"lagprobe{run}x{i}"
        began = time.monotonic()
        await client.call(
            "ingestion", "POST", "/v1/posts", tenant, READER,
            json={"content": f"Checking how fast {word} is found"},
        )  # fmt: skip
        while True:
            found = await http.get(search_url, params={"q": word}, headers={"Authorization": token})
            if found.status_code == 200 and found.json()["items"]:
                return time.monotonic() - began
            if time.monotonic() - began > 60:
                raise TimeoutError(f"post {i} not found within 60 s")
            await asyncio.sleep(LAG_POLL_S)

    async with httpx.AsyncClient(timeout=30.0) as http:
        tasks = []
        for i in range(LAG_POSTS):
            tasks.append(asyncio.create_task(one(i, http)))
            await asyncio.sleep(1 / LAG_RATE)
        lags_ms = sorted(s * 1000 for s in await asyncio.gather(*tasks))
    params: dict[str, JSONScalar] = {
        **started(system),
        "posts": LAG_POSTS,
        "rate_per_s": LAG_RATE,
        "poll_s": LAG_POLL_S,
    }
    p99 = lags_ms[min(len(lags_ms) - 1, int(len(lags_ms) * 0.99))]
    return [
        Figure("search.lag.p50_ms", statistics.median(lags_ms), "ms", LAG_POSTS, params),
        Figure("search.lag.p99_ms", p99, "ms", LAG_POSTS, params),
        Figure("search.lag.max_ms", lags_ms[-1], "ms", LAG_POSTS, params),
    ]


BENCHMARK = Benchmark(
    "search",
    f"full-text search over {POSTS:,} posts of one tenant at {RATE_RPS}/s (common and rare "
    "words, a phrase, filters, people): p50/p99 and analytics CPU per request; indexing lag "
    "(post over HTTP -> found by search) p50/p99",
    run,
)
