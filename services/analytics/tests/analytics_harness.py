"""The analytics test harness: the service running in-process (API and stream) on its own
schema, topics and consumer group, fed through the real broker.

Importable from every analytics test (``pythonpath`` in the root pyproject); the fixtures that
use it are in ``conftest.py``. Waiting for the stream:

- activities: :meth:`Analytics.settle` waits until every id is in ``consumed_activities``
  (:meth:`Analytics.send` publishes and settles);
- impressions carry no id: :meth:`Analytics.publish_impressions` returns where the broker
  stored the record, and :meth:`Analytics.settle_impressions` waits until the stream has
  applied that offset (or the group has committed past it, which survives a restart);
  :meth:`Analytics.send_impressions` does both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from redis.asyncio import Redis

from canopy_analytics.app import create_app
from canopy_analytics.settings import Settings
from canopy_analytics.stream import AnalyticsStream
from canopy_common.events import StrictActivity
from canopy_common.impressions import Impressions
from canopy_common.kafka import Delivery, Producer
from canopy_common.service import Mode, Runtime
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import subject_id
from canopy_testing.kafka import committed_offsets
from canopy_testing.polling import eventually
from canopy_testing.services import (
    ActivityServiceHarness,
    isolated_settings,
    service_connections,
    serving_ready,
)

# A stream joins its group in well under a second, but a stream started while a killed
# member's session lives waits for it to expire (the 10 s session timeout) first.
READY_TIMEOUT_S = 60.0


def analytics_settings(kafka_settings: KafkaSettings, **overrides: Any) -> Settings:
    """Settings with a schema, topics and consumer group of their own; small batch waits,
    commit intervals and backoffs so tests settle quickly."""
    defaults: dict[str, Any] = {
        "stream_batch_wait_s": 0.1,
        "stream_commit_interval_s": 0.2,
        "stream_retry_backoff_initial_s": 0.05,
        "stream_retry_backoff_max_s": 0.5,
        "stream_stop_grace_s": 10.0,
    }
    return isolated_settings(
        Settings,
        kafka_settings,
        service="analytics",
        topics=(
            "topic_activities",
            "topic_impressions",
            "topic_dlq",
            "topic_audit",
            "topic_exports",
            "topic_export_parts",
            "topic_question_experts",
        ),
        **{**defaults, **overrides},
    )


ImpressionItem = StrictActivity | Mapping[str, Any]


@dataclass
class Analytics(ActivityServiceHarness):
    """The running service: its HTTP client, settings, a pool on its schema, a producer and
    Redis; :meth:`restart` (or :meth:`stop_service` and :meth:`start_service`) replaces the
    service with a new instance on the same schema, topics and group."""

    client: httpx.AsyncClient
    settings: Settings
    pool: asyncpg.Pool
    producer: Producer
    redis: Redis
    mode: Mode = Mode.ALL
    app: FastAPI | None = None
    _serving: AsyncExitStack | None = field(default=None, repr=False)

    # -- the service ------------------------------------------------------------------------

    @property
    def runtime(self) -> Runtime[Settings]:
        """The running service's clients and workers."""
        if self.app is None:
            raise RuntimeError("the analytics service is stopped")
        runtime: Runtime[Settings] = self.app.state.runtime
        return runtime

    @property
    def stream(self) -> AnalyticsStream:
        """The running service's stream (worker and all modes)."""
        return self.runtime.component(AnalyticsStream)

    async def start_service(self) -> None:
        """Start a new instance of the service and wait until it is ready."""
        if self._serving is not None:
            raise RuntimeError("the analytics service is running already")
        self._serving, self.app, self.client = await _serve_ready(self.settings, self.mode)

    async def stop_service(self) -> None:
        """Stop the service as SIGTERM does: its stream finishes the batch in flight, commits
        and leaves the group; then the API and clients close."""
        serving, self._serving = self._serving, None
        if serving is not None:
            await serving.aclose()
        self.app = None

    async def restart(self) -> None:
        """Stop the service and start a new instance on the same schema, topics and group."""
        await self.stop_service()
        await self.start_service()

    # -- activities -------------------------------------------------------------------------

    async def settle_vectors(self, tenant: str) -> None:
        """Wait until the embedding worker has written (or removed) the vector of every post
        of ``tenant`` as its text and openness now are, and published what is due."""

        async def embedded() -> bool:
            to_do = await self.pool.fetchval(
                "SELECT count(*) FROM posts WHERE tenant_id = $1 AND "
                "(embedded_version <> text_version OR embedded_open <> open)",
                tenant,
            )
            return bool(to_do == 0)

        await eventually(embedded, what=f"the posts of {tenant} embedded", interval_s=0.05)

    # -- impressions ------------------------------------------------------------------------

    async def publish_impressions(
        self,
        tenant: str,
        viewer: str,
        items: Sequence[ImpressionItem],
        *,
        feed: str = "home",
        viewed_at: datetime | None = None,
    ) -> Delivery:
        """Publish one impressions record as fanout does (key ``tenant:viewer``).

        An item is a mapping (``activity``, ``object``, and optionally ``feed`` and
        ``viewed_at``) or an activity (its id, and its object's id); ``feed`` and
        ``viewed_at`` (default now) fill what an item leaves out.
        """
        seen_at = (viewed_at or datetime.now(UTC)).isoformat()
        record = Impressions.model_validate(
            {
                "tenant": tenant,
                "viewer": viewer,
                "items": [
                    {"feed": feed, "viewed_at": seen_at, **_impression(item)} for item in items
                ],
            }
        )
        return await self.producer.send(
            self.settings.kafka.topic_impressions, record, key=f"{tenant}:{viewer}"
        )

    async def settle_impressions(self, *deliveries: Delivery) -> None:
        """Wait until the stream has applied the impressions records ``deliveries`` name."""
        kafka = self.settings.kafka

        async def applied() -> bool:
            stream = self.stream
            waiting = [
                d for d in deliveries if stream.applied_offset(d.topic, d.partition) <= d.offset
            ]
            if not waiting:
                return True
            committed = await committed_offsets(
                kafka, self.settings.consumer_group, kafka.topic_impressions
            )
            return all(committed.get(d.partition, 0) > d.offset for d in waiting)

        await eventually(
            applied, what=f"{len(deliveries)} impressions records applied", interval_s=0.2
        )

    async def send_impressions(
        self,
        tenant: str,
        viewer: str,
        items: Sequence[ImpressionItem],
        *,
        feed: str = "home",
        viewed_at: datetime | None = None,
    ) -> Delivery:
        """:meth:`publish_impressions`, then :meth:`settle_impressions`."""
        delivery = await self.publish_impressions(
            tenant, viewer, items, feed=feed, viewed_at=viewed_at
        )
        await self.settle_impressions(delivery)
        return delivery

    # -- HTTP -------------------------------------------------------------------------------


def _impression(item: ImpressionItem) -> dict[str, Any]:
    if isinstance(item, StrictActivity):
        return {"activity": item.id, "object": subject_id(item)}
    return dict(item)


async def _serve_ready(
    settings: Settings, mode: Mode
) -> tuple[AsyncExitStack, FastAPI, httpx.AsyncClient]:
    """Start the service's app (its lifespan) and wait until ``/readyz`` answers 200."""
    app = create_app(settings, mode)
    stack = AsyncExitStack()
    client = await stack.enter_async_context(
        serving_ready(app, what="analytics ready", timeout_s=READY_TIMEOUT_S)
    )
    return stack, app, client


@asynccontextmanager
async def running_analytics(
    settings: Settings, pg_pool: asyncpg.Pool, redis: Redis, mode: Mode = Mode.ALL
) -> AsyncIterator[Analytics]:
    """The service, ready, for the ``async with`` block; its schema is dropped afterwards."""
    async with service_connections(settings, pg_pool) as (pool, producer):
        serving, app, client = await _serve_ready(settings, mode)
        service = Analytics(client, settings, pool, producer, redis, mode, app, serving)
        try:
            yield service
        finally:
            await service.stop_service()
