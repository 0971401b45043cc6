"""``similar``: search by meaning over :data:`QUESTIONS` questions of one tenant
(docs/architecture.md §17).

Ingestion and analytics run as ``make up`` runs them (:func:`bench.system.bench_system`); the
questions and their answers reach analytics through the real stream (canonical ``Create``
activities published on the activities topic, as ``bench/search.py`` does) and the embedding
worker embeds them with the real model — the same code path as every post.

Figures: ``similar.embed.texts_per_s`` and ``.cpu_ms_per_text`` (from the stream's last record
until every text has its vector: the worker's throughput and the analytics processes' CPU per
text embedded in that window), ``similar.cold_ms`` (the first request of the API process: it
reads the tenant's vectors into memory), then ``hey`` offers :data:`RATE_RPS` requests/s for
:data:`DURATION_S` of ``GET /v1/questions/similar`` for each text of :data:`TEXTS`:
``similar.<text>.p50_ms`` / ``.p99_ms``, ``.achieved_rps``, ``.cpu_us`` (CPU of the analytics
processes per request); ``experts.text`` the same for ``GET /v1/people/experts?text=``.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlencode

import asyncpg
import httpx

from bench.figures import Figure, JSONScalar
from bench.harness import BenchContext, Benchmark
from bench.reads import HEY, load_figures, offer
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
from canopy_testing.factories import ActivityFactory

SERVICES: Final = ("ingestion", "analytics")
QUESTIONS: Final = 10_000
ANSWERED: Final = 0.4  # questions with one answer
AUTHORS: Final = 300
PUBLISH_CHUNK: Final = 2_000
RATE_RPS: Final = 20
HEY_WORKERS: Final = 5
DURATION_S: Final = 10
WARMUP_REQUESTS: Final = 10
READER: Final = "rita"
# What people type into the question box: a few words, a whole question, a paraphrase.
TEXTS: Final = {
    "short": "vpn certificate",
    "question": "How do I renew the certificate of the VPN client on my laptop?",
    "paraphrase": "My remote access connection says its security credential expired",
}

_ASK = (
    "How do I {verb} the {thing} for {place}?",
    "Where can I {verb} the {thing} of {place}?",
    "Who knows how to {verb} a {thing} in {place}?",
    "What is the process to {verb} the {thing} used by {place}?",
    "Why does {place} fail when I {verb} the {thing}?",
)
_VERBS = (
    "renew", "request", "reset", "configure", "install", "update", "approve", "book",
    "cancel", "export", "share", "restore", "migrate", "order", "report",
)  # fmt: skip
_THINGS = (
    "VPN certificate", "parental leave", "expense report", "meeting room", "laptop",
    "staging database", "build pipeline", "access badge", "travel budget", "on-call rota",
    "quarterly sales figures", "customer contract", "Kubernetes cluster", "password",
    "holiday calendar", "monitoring dashboard", "security training", "team offsite",
    "payroll statement", "API key",
)  # fmt: skip
_PLACES = (
    "the Berlin office", "the sales team", "production", "new joiners", "my manager",
    "the finance portal", "the mobile app", "our partners", "the data platform", "HR",
)  # fmt: skip


def _question(rng: random.Random) -> str:
    return rng.choice(_ASK).format(
        verb=rng.choice(_VERBS), thing=rng.choice(_THINGS), place=rng.choice(_PLACES)
    )


async def run(ctx: BenchContext) -> list[Figure]:
    if not shutil.which(HEY):
        raise RuntimeError(f"{HEY} is missing: scripts/setup.sh installs it (apt)")
    async with bench_system(ctx, SERVICES) as system:
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        texts = await populate(system, tenant)
        figures = await embedding(system, tenant, texts)
        token = system.client.headers(tenant, READER)["Authorization"]
        figures += await cold(system, token)
        for name, text in TEXTS.items():
            progress(f"hey: similar questions ({name}) at {RATE_RPS}/s")
            figures += await measure(
                system, f"similar.{name}", "/v1/questions/similar", {"text": text}, token
            )
        progress(f"hey: experts for a text at {RATE_RPS}/s")
        figures += await measure(
            system, "experts.text", "/v1/people/experts", {"text": TEXTS["question"]}, token
        )
    return figures


async def populate(system: BenchSystem, tenant: str) -> int:
    """The tenant, its reader, authors, questions and answers, applied by the stream; how many
    texts there are to embed."""
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
    authors = [f.user(f"author{i:04d}", user_id=f"a{i:04d}") for i in range(AUTHORS)]
    await publish_activities(system, authors)
    now = datetime.now(UTC)
    progress(f"populating: {QUESTIONS:,} questions through the analytics stream")
    texts = 0
    for start in range(0, QUESTIONS, PUBLISH_CHUNK):
        chunk: list[StrictActivity] = []
        for _ in range(min(PUBLISH_CHUNK, QUESTIONS - start)):
            question = f.post(
                authors[rng.randrange(AUTHORS)],
                _question(rng),
                kind="question",
                published=now - timedelta(days=rng.uniform(1, 365)),
            )
            chunk.append(question)
            if rng.random() < ANSWERED:
                answer = f"You can {rng.choice(_VERBS)} the {rng.choice(_THINGS)} in the portal."
                chunk.append(f.answer(authors[rng.randrange(AUTHORS)], question, answer))
        texts += len(chunk)
        await publish_activities(system, chunk)
    return texts


async def embedding(system: BenchSystem, tenant: str, texts: int) -> list[Figure]:
    """Wait for the stream, then for the worker: its throughput and CPU per text."""
    waited = await wait_consumed(system, "analytics", system.kafka.topic_activities, timeout_s=900)
    progress(f"stream done {waited:.0f} s after the last record; waiting for the vectors")
    conn = await asyncpg.connect(system.running.pg_dsn)
    try:
        cpu_before, began = service_cpu_s(system, "canopy_analytics"), time.monotonic()
        since = await conn.fetchval("SELECT now()")
        while True:
            to_do = await conn.fetchval(
                "SELECT count(*) FROM analytics.posts WHERE tenant_id = $1 AND "
                "(embedded_version <> text_version OR embedded_open <> open)",
                tenant,
            )
            if to_do == 0:
                break
            if time.monotonic() - began > 1800:
                raise TimeoutError(f"{to_do} posts still without a vector after 30 min")
            await asyncio.sleep(0.5)
        cpu_s, elapsed = (
            service_cpu_s(system, "canopy_analytics") - cpu_before,
            time.monotonic() - began,
        )
        embedded = await conn.fetchval(
            "SELECT count(*) FROM analytics.post_vectors WHERE tenant_id = $1 "
            "AND embedded_at >= $2",
            tenant,
            since,
        )
        total = await conn.fetchval(
            "SELECT count(*) FROM analytics.post_vectors WHERE tenant_id = $1 "
            "AND vector IS NOT NULL",
            tenant,
        )
    finally:
        await conn.close()
    params: dict[str, JSONScalar] = {
        **started(system),
        "questions": QUESTIONS,
        "texts": texts,
        "vectors": total,
        "embedded_after_stream": embedded,
        "window_s": round(elapsed, 1),
    }
    per_s = embedded / elapsed if elapsed > 0 else 0.0
    return [
        Figure("similar.embed.texts_per_s", round(per_s, 1), "texts/s", embedded, params),
        Figure(
            "similar.embed.cpu_ms_per_text",
            round(cpu_s / max(embedded, 1) * 1000, 2),
            "ms/text",
            embedded,
            params,
        ),
    ]


async def cold(system: BenchSystem, token: str) -> list[Figure]:
    url = system.url("analytics", "/v1/questions/similar?" + urlencode({"text": "vpn"}))
    async with httpx.AsyncClient(timeout=60.0) as http:
        began = time.monotonic()
        first = await http.get(url, headers={"Authorization": token})
        took_ms = (time.monotonic() - began) * 1000
    if first.status_code != 200:
        raise AssertionError(f"GET {url}: {first.status_code} {first.text[:300]}")
    params: dict[str, JSONScalar] = {**started(system), "questions": QUESTIONS}
    return [Figure("similar.cold_ms", round(took_ms, 1), "ms", 1, params)]


async def measure(
    system: BenchSystem, name: str, path: str, query: dict[str, str], token: str
) -> list[Figure]:
    url = system.url("analytics", path + "?" + urlencode(query))
    async with httpx.AsyncClient(timeout=30.0) as http:
        first = await http.get(url, headers={"Authorization": token})
        if first.status_code != 200:
            raise AssertionError(f"GET {url}: {first.status_code} {first.text[:300]}")
        items = len(first.json()["items"])
        for _ in range(WARMUP_REQUESTS):
            await http.get(url, headers={"Authorization": token})
        cpu_before = service_cpu_s(system, "canopy_analytics")
        load = await offer(
            url, token, rate_rps=RATE_RPS, duration_s=DURATION_S, workers=HEY_WORKERS
        )
        cpu_s = service_cpu_s(system, "canopy_analytics") - cpu_before
    params: dict[str, JSONScalar] = {
        **started(system),
        "query": urlencode(query),
        "questions": QUESTIONS,
        "items_per_response": items,
        "offered_rps": RATE_RPS,
        "duration_s": DURATION_S,
        "errors": load.errors,
        "non_2xx": load.non_2xx,
    }
    return load_figures(name, load, cpu_s, params)


BENCHMARK = Benchmark(
    "similar",
    f"search by meaning over {QUESTIONS:,} questions of one tenant (real model, through the "
    f"embedding worker): embedding throughput and CPU per text; similar questions and experts "
    f"for a text at {RATE_RPS}/s, p50/p99 and analytics CPU per request",
    run,
)
