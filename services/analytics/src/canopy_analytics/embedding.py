"""The embedding worker (docs/architecture.md §17): keeps a vector for every post, question,
answer and comment of the ``posts`` projection, and publishes the likely answerers of each new
question.

A worker over the projection rather than a second Kafka consumer: the stream already applies
every create, edit, delete and erasure to ``posts`` (bumping ``text_version``), so the worker
needs no ordering of its own and cannot race them. One pass is one transaction:

1. Claim up to ``embed_batch_size`` posts whose ``text_version`` or ``open`` moved past what
   was last written for them (partial index ``posts_to_embed``), ``FOR UPDATE SKIP LOCKED``:
   workers side by side take different rows, and an edit, delete or erasure of a claimed post
   waits for the pass and then marks the post to do again — a vector is never stored for a
   text that is no longer current.
2. Embed the live texts whose stored vector is missing, older or another model's, in one call
   of the model in a thread (the event loop keeps serving); tombstone the vectors of deleted
   or blanked posts; copy a changed ``open``.
3. Write them under the tenants' seq lock, mark the posts done, commit.

Then, for each new question (asked in the last ``question_experts_max_age_s``, its likely
answerers not yet published for this text: a backlog of old questions, say after a change of
model, is not routed again), rank the
people whose open writing is nearest it and publish one ``QuestionExperts`` record on
``canopy.question-experts.v1``, then record the version published (a question's row lock
makes two workers publish it once; a crash between the two publishes it again, and notify
keeps the latest). A publication that fails is tried again on the next passes.

Woken by ``NOTIFY analytics_embed`` (the stream's batches send it when they change a text),
polled every ``embed_poll_interval_s`` besides.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from prometheus_client import Counter, Gauge, Histogram

from canopy_analytics import semantic_reads
from canopy_analytics.adapters import nearest_rows as semantic_sql
from canopy_analytics.adapters import vectors as sql
from canopy_analytics.adapters.model_runtime import Semantics
from canopy_analytics.adapters.vectors import NOTIFY_CHANNEL
from canopy_analytics.domain import similarity
from canopy_analytics.settings import Settings
from canopy_common.kafka import Producer
from canopy_common.loops import BackgroundLoop
from canopy_common.metrics import (
    get_or_create_counter,
    get_or_create_gauge,
    get_or_create_histogram,
    metric_name,
)
from canopy_common.pg_listen import Listener
from canopy_common.question_experts import (
    MAX_EXPERTS,
    Expert,
    QuestionExperts,
    encode_question_experts,
    record_key,
)
from canopy_common.transient import is_transient

log = structlog.get_logger(__name__)

SERVICE = "analytics"
# A text is cut to this many characters before the model sees it: models read a few hundred
# tokens at most, and a 100 KB post must not cost more than a long one.
MAX_EMBED_CHARS = 4_000
# Embedding a batch: a few milliseconds to seconds, depending on the model and the batch.
EMBED_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Questions whose publication failed, retried per pass (the oldest first).
RETRY_QUESTIONS = 50


@dataclass(frozen=True, slots=True)
class EmbeddingMetrics:
    """``canopy_analytics_embedded_texts_total``, ``canopy_analytics_embed_duration_seconds``
    (one model call), ``canopy_analytics_embed_backlog_posts`` (posts to do, every tenant's),
    ``canopy_analytics_question_experts_published_total{outcome}`` (published, failed)."""

    embedded: Counter
    duration: Histogram
    backlog: Gauge
    published: Counter


def embedding_metrics() -> EmbeddingMetrics:
    return EmbeddingMetrics(
        embedded=get_or_create_counter(
            metric_name(SERVICE, "embedded_texts_total"), "Post texts embedded."
        ),
        duration=get_or_create_histogram(
            metric_name(SERVICE, "embed_duration_seconds"),
            "Time the model took to embed one batch of texts.",
            buckets=EMBED_BUCKETS_S,
        ),
        backlog=get_or_create_gauge(
            metric_name(SERVICE, "embed_backlog_posts"),
            "Posts whose vector is to be written or removed.",
        ),
        published=get_or_create_counter(
            metric_name(SERVICE, "question_experts_published_total"),
            "Likely-answerer records of questions, by outcome.",
            ["outcome"],
        ),
    )


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass did."""

    claimed: int
    embedded: int
    removed: int
    questions: tuple[tuple[str, str, int], ...]  # (tenant, question id, text_version)


class EmbeddingWorker(BackgroundLoop):
    """Runs passes until stopped (see the module docstring); ``ready`` while they succeed."""

    task_name = "analytics-embedding"

    def __init__(
        self,
        settings: Settings,
        *,
        pool: asyncpg.Pool,
        producer: Producer,
        semantics: Semantics,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._pool = pool
        self._producer = producer
        self._semantics = semantics
        self._metrics = embedding_metrics()
        self._listener = Listener(
            settings.postgres.dsn, NOTIFY_CHANNEL, self._wake, name="embedding worker"
        )
        self._healthy = False
        self._unpublished: set[tuple[str, str, int]] = set()
        self.passes = 0  # for tests: passes completed

    @property
    def ready(self) -> bool:
        return self.running and self._healthy

    async def run(self) -> None:
        failures = 0
        try:
            await self._semantics.load()
            model = self._semantics.embedder.model
            while not self._stopping.is_set():
                self._wake.clear()  # before the pass: a NOTIFY during it means more
                await self._listener.ensure()
                try:
                    if failures == 0 and self.passes == 0:
                        again = await sql.embed_again_other_models(self._pool, model)
                        if again:
                            log.info("embedding again: vectors of another model", posts=again)
                    behind = await self.run_pass()
                except Exception as exc:
                    failures += 1
                    self._healthy = False
                    delay = min(
                        self._settings.stream_retry_backoff_initial_s * 2 ** (failures - 1),
                        self._settings.stream_retry_backoff_max_s,
                    )
                    (log.warning if is_transient(exc) else log.exception)(
                        "embedding pass failed; retrying",
                        error=f"{type(exc).__name__}: {exc}",
                        failures=failures,
                    )
                    await self._sleep(delay, wake_on=self._stopping)
                    continue
                failures = 0
                self._healthy = True
                if not behind:
                    await self._sleep(self._settings.embed_poll_interval_s)
        finally:
            self._healthy = False
            await self._listener.close()

    async def run_pass(self) -> bool:
        """One pass and the publications it calls for; whether more may be waiting."""
        done = await self.embed_pending()
        self.passes += 1
        self._unpublished.update(done.questions)
        await self._publish_due()
        async with self._pool.acquire() as conn:
            self._metrics.backlog.set(await sql.backlog(conn))
        return done.claimed == self._settings.embed_batch_size

    async def embed_pending(self) -> Pass:
        """Claim, embed, store, mark done: one transaction (see the module docstring)."""
        embedder = self._semantics.embedder
        model = embedder.model
        async with self._pool.acquire() as conn, conn.transaction():
            claimed = await sql.claim(conn, self._settings.embed_batch_size)
            if not claimed:
                return Pass(0, 0, 0, ())
            to_embed = [p for p in claimed if p.wants_vector and not p.current(model)]
            reopened = [p for p in claimed if p.wants_vector and p.current(model)]
            removed = [p for p in claimed if not p.wants_vector and p.has_vector]
            vectors: list[bytes] = []
            if to_embed:
                texts = [p.text[:MAX_EMBED_CHARS] for p in to_embed]
                started = time.perf_counter()
                matrix = await asyncio.to_thread(embedder.passages, texts)
                self._metrics.duration.observe(time.perf_counter() - started)
                vectors = [similarity.to_bytes(row) for row in matrix]
            await sql.lock_tenants(conn, [p.tenant for p in (*to_embed, *reopened, *removed)])
            await sql.store(conn, model, to_embed, vectors)
            await sql.reopen(conn, reopened)
            await sql.remove(conn, removed)
            await sql.done(conn, claimed)
        self._metrics.embedded.inc(len(to_embed))
        asked_since = datetime.now(UTC) - timedelta(
            seconds=self._settings.question_experts_max_age_s
        )
        questions = tuple(
            (p.tenant, p.object_id, p.text_version) for p in to_embed if p.new_question(asked_since)
        )
        return Pass(len(claimed), len(to_embed), len(removed), questions)

    async def _publish_due(self) -> None:
        for tenant, question_id, version in sorted(self._unpublished)[:RETRY_QUESTIONS]:
            try:
                await self.publish_experts(tenant, question_id, version)
            except Exception as exc:
                self._metrics.published.labels("failed").inc()
                log.warning(
                    "likely answerers not published; trying again next pass",
                    question=question_id,
                    error=f"{type(exc).__name__}: {exc}",
                )
                return  # the broker or Postgres is away: the next pass tries again
            self._unpublished.discard((tenant, question_id, version))

    async def publish_experts(self, tenant: str, question_id: str, version: int) -> bool:
        """Rank and publish the likely answerers of one question for its text ``version``,
        unless that was done (or the text moved on); whether a record went out."""
        semantics = self._semantics
        async with self._pool.acquire() as conn, conn.transaction():
            due = await conn.fetchrow(
                "SELECT q.experts_version, p.text_version FROM questions q "
                "JOIN posts p ON p.tenant_id = q.tenant_id AND p.object_id = q.question_id "
                "WHERE q.tenant_id = $1 AND q.question_id = $2 FOR UPDATE OF q SKIP LOCKED",
                tenant,
                question_id,
            )
            if due is None or due["experts_version"] >= version or due["text_version"] != version:
                return False
            question = await semantic_sql.question(conn, tenant, question_id)
            if question is None or question.deleted or not question.text:
                return False
            if question.author_id is None:  # nobody asked it: nobody to route it for
                return False
            vectors = await semantics.index.tenant(conn, tenant)
            row = vectors.row_of.get(question_id)
            if row is None:  # its vector is not visible yet (or was removed): embed it anew
                query = await semantics.query(question.text[:MAX_EMBED_CHARS])
            else:
                query = vectors.matrix[row].copy()
            ranked = await semantic_reads.likely_answerers(
                conn,
                vectors,
                query,
                tenant=tenant,
                question=question,
                floor=self._settings.similarity_floor,
                limit=MAX_EXPERTS,
            )
            record = QuestionExperts(
                tenant=tenant,
                question_id=question_id,
                asker_id=question.author_id,
                computed_at=datetime.now(UTC),
                model=semantics.embedder.model,
                experts=[
                    Expert(user_id=e.user_id, score=e.score, reason=e.reason, evidence=e.evidence)
                    for e in ranked
                ],
            )
            await self._producer.send(
                self._settings.kafka.topic_question_experts,
                encode_question_experts(record),
                key=record_key(tenant, question_id),
            )
            await sql.experts_published(conn, tenant, question_id, version)
        self._metrics.published.labels("published").inc()
        return True
