"""The outbox relay against real Postgres and brokers: every appended activity reaches the
activities topic, in order per key, with its key and trace headers, at least once — also across a
broker restart, and with several relays side by side."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from ingestion_harness import ingestion_settings
from prometheus_client import REGISTRY

from canopy_common.db import close_pool, create_pool
from canopy_common.events import StrictActivity, decode_activity
from canopy_common.iris import user_iri
from canopy_common.kafka import Delivery, Producer, RecordBatch, ensure_topics
from canopy_common.service import Mode, migrate
from canopy_common.settings import KafkaSettings
from canopy_common.tracing import new_traceparent
from canopy_dev.devstack import LocalStack
from canopy_ingestion.adapters import outbox
from canopy_ingestion.adapters.relay import OutboxRelay
from canopy_ingestion.app import DEFINITION, create_app
from canopy_ingestion.export_purge import ExportPurge
from canopy_ingestion.settings import Settings
from canopy_testing.factories import ActivityFactory
from canopy_testing.http import serve
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

POLL_S = 0.2
BACKLOG = "canopy_ingestion_outbox_backlog_records"


@dataclass
class Outbox:
    """An ingestion schema of its own, a pool on it, and settings with their own topics."""

    settings: Settings
    pool: asyncpg.Pool

    def relay(self, producer: Producer, **settings: Any) -> OutboxRelay:
        return OutboxRelay(self.pool, producer, self.settings.model_copy(update=settings))

    async def append(self, *activities: StrictActivity) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await outbox.append(conn, *activities)

    async def unsent(self) -> int:
        count: int = await self.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return count

    async def all_sent(self) -> bool:
        return await self.unsent() == 0


@pytest.fixture
async def box(kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool) -> AsyncIterator[Outbox]:
    settings = ingestion_settings(kafka_settings).model_copy(
        update={"relay_poll_interval_s": POLL_S}
    )
    await migrate(DEFINITION, settings)
    await ensure_topics(settings.kafka, [settings.kafka.topic_activities])
    pool = await create_pool(settings.postgres, schema=settings.db_schema)
    try:
        yield Outbox(settings, pool)
    finally:
        await close_pool(pool)
        await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')


def posts(tenant: str, actors: Sequence[str], count: int) -> list[StrictActivity]:
    """``count`` strict posts by ``actors`` in turn, each with a traceparent of its own."""
    factory = ActivityFactory(tenant)
    return [
        factory.post(user_iri(tenant, actors[i % len(actors)]), f"post {i}").model_copy(
            update={"traceparent": new_traceparent()}
        )
        for i in range(count)
    ]


def ids_by_key(records: Sequence[Any]) -> dict[str, list[str]]:
    """The activity ids on the topic, by record key, in offset order."""
    found: dict[str, list[str]] = {}
    for record in records:
        found.setdefault(record.key.decode(), []).append(decode_activity(record.value).id)
    return found


def expected_by_key(activities: Sequence[StrictActivity]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for activity in activities:
        found.setdefault(outbox.activity_key(activity), []).append(activity.id)
    return found


def first_seen(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


async def test_appended_activities_are_published_in_order_per_key_with_headers_and_marked_sent(
    box: Outbox, tenant: str
) -> None:
    activities = posts(tenant, ["ada", "bob", "cy"], 30)
    await box.append(*activities[:10])
    await box.append(*activities[10:])
    kafka = box.settings.kafka

    async with Producer(kafka) as producer, box.relay(producer):
        await eventually(box.all_sent, what="every outbox row marked sent")

    records = await read_topic(kafka, kafka.topic_activities)
    assert ids_by_key(records) == expected_by_key(activities)
    traceparents = {a.id: a.traceparent for a in activities}
    for record in records:
        headers = dict(record.headers)
        assert headers["traceparent"].decode() == traceparents[decode_activity(record.value).id]
    assert {r.key.decode() for r in records} == {f"{tenant}:{u}" for u in ("ada", "bob", "cy")}


async def test_a_row_published_but_not_marked_is_published_again_with_the_same_id(
    box: Outbox, tenant: str
) -> None:
    (activity,) = posts(tenant, ["ada"], 1)
    await box.append(activity)
    kafka = box.settings.kafka

    async with Producer(kafka) as producer, box.relay(producer):
        await eventually(box.all_sent, what="the row marked sent")
        # As if the relay had died after the broker's ack and before its commit.
        await box.pool.execute("UPDATE outbox SET sent_at = NULL")
        await eventually(box.all_sent, what="the row published again")

    records = await read_topic(kafka, kafka.topic_activities)
    assert [decode_activity(r.value).id for r in records] == [activity.id, activity.id]


async def test_rows_sent_longer_ago_than_the_retention_are_pruned_and_recent_ones_kept(
    box: Outbox, tenant: str
) -> None:
    old, recent = posts(tenant, ["ada"], 3), posts(tenant, ["bob"], 3)
    await box.append(*old, *recent)
    # As if a relay had published these two days ago.
    await box.pool.execute(
        "UPDATE outbox SET sent_at = now() - interval '2 days' WHERE activity_id = ANY($1)",
        [a.id for a in old],
    )

    async def kept() -> list[str] | None:
        rows = await box.pool.fetch("SELECT activity_id, sent_at FROM outbox ORDER BY seq")
        settled = len(rows) == len(recent) and all(r["sent_at"] for r in rows)
        return [r["activity_id"] for r in rows] if settled else None

    async with (
        Producer(box.settings.kafka) as producer,
        box.relay(producer, relay_retention_s=3600, relay_prune_interval_s=0.1),
    ):
        remaining = await eventually(kept, what="the old rows pruned, the recent ones sent")

    assert remaining == [a.id for a in recent]


class CountingProducer(Producer):
    """Counts the records the relay published through it."""

    sent = 0

    async def enqueue_batch(
        self, topic: str, partition: int, batch: RecordBatch
    ) -> asyncio.Future[Delivery]:
        delivery = await super().enqueue_batch(topic, partition, batch)
        self.sent += batch.count
        return delivery


async def test_two_relays_side_by_side_publish_every_row_once_in_order_per_key(
    box: Outbox, tenant: str
) -> None:
    activities = posts(tenant, [f"user{i}" for i in range(40)], 400)
    kafka = box.settings.kafka
    small = {"relay_batch_size": 25, "relay_buckets_per_claim": 4}

    async with (
        CountingProducer(kafka) as first,
        CountingProducer(kafka) as second,
        box.relay(first, **small),
        box.relay(second, **small),
    ):
        for start in range(0, len(activities), 20):
            await box.append(*activities[start : start + 20])
        await eventually(box.all_sent, what="every outbox row marked sent")

    records = await read_topic(kafka, kafka.topic_activities)
    assert len(records) == len(activities)  # nothing twice
    assert ids_by_key(records) == expected_by_key(activities)
    assert min(first.sent, second.sent) > 0  # both did a share
    assert first.sent + second.sent == len(activities)


async def test_keys_sharing_partitions_keep_their_order_over_many_batches_per_partition(
    box: Outbox, tenant: str
) -> None:
    # Batches of about one record: every partition is a long chain of them.
    activities = posts(tenant, [f"user{i}" for i in range(30)], 300)
    await box.append(*activities)
    kafka = box.settings.kafka

    async with Producer(kafka) as producer, box.relay(producer, relay_max_batch_bytes=1024):
        await eventually(box.all_sent, what="every outbox row marked sent")

    records = await read_topic(kafka, kafka.topic_activities)
    assert len(records) == len(activities)
    assert ids_by_key(records) == expected_by_key(activities)


class FailingOnceProducer(Producer):
    """Refuses the first batch handed over for each partition, as a broker gone away would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: set[int] = set()

    async def enqueue_batch(
        self, topic: str, partition: int, batch: RecordBatch
    ) -> asyncio.Future[Delivery]:
        if partition not in self.refused:
            self.refused.add(partition)
            raise KafkaConnectionError("the broker went away")
        return await super().enqueue_batch(topic, partition, batch)


async def test_a_failed_batch_stops_its_partition_so_nothing_overtakes_it(
    box: Outbox, tenant: str
) -> None:
    activities = posts(tenant, [f"user{i}" for i in range(12)], 120)
    await box.append(*activities)
    kafka = box.settings.kafka

    async with (
        FailingOnceProducer(kafka) as producer,
        box.relay(producer, relay_max_batch_bytes=4096),
    ):
        await eventually(box.all_sent, what="every outbox row marked sent after the retries")

    assert producer.refused  # every partition failed once, then went on
    records = await read_topic(kafka, kafka.topic_activities)
    assert len(records) == len(activities)  # a refused batch was never half-sent
    assert ids_by_key(records) == expected_by_key(activities)


async def test_a_notify_wakes_the_relay_long_before_its_next_poll(box: Outbox, tenant: str) -> None:
    (activity,) = posts(tenant, ["ada"], 1)
    kafka = box.settings.kafka

    async with Producer(kafka) as producer, box.relay(producer, relay_poll_interval_s=30) as relay:

        async def idle() -> bool:  # its first pass is done: it waits for a NOTIFY or 30 s
            return relay.ready

        await eventually(idle, what="the relay idle")
        appended = time.monotonic()
        await box.append(activity)
        await eventually(box.all_sent, what="the row marked sent", timeout_s=10)
        took = time.monotonic() - appended

    assert took < 2.0
    records = await read_topic(kafka, kafka.topic_activities)
    assert [decode_activity(r.value).id for r in records] == [activity.id]


@pytest.fixture
async def own_broker(broker_of_its_own: LocalStack) -> LocalStack:
    """A Kafka broker of this test's own, started."""
    await asyncio.to_thread(broker_of_its_own.up)
    return broker_of_its_own


def backlog_gauge() -> float | None:
    return REGISTRY.get_sample_value(BACKLOG)


async def test_with_the_broker_down_writes_succeed_and_every_activity_arrives_after_it_returns(
    box: Outbox, own_broker: LocalStack, tenant: str
) -> None:
    # Fails fast while the broker is away: 2 s per attempt instead of 30.
    kafka = box.settings.kafka.model_copy(
        update={"bootstrap_servers": own_broker.kafka.bootstrap_servers, "request_timeout_ms": 2000}
    )
    box.settings = box.settings.model_copy(update={"kafka": kafka})
    before, during = posts(tenant, ["ada", "bob"], 4), posts(tenant, ["ada", "bob", "cy"], 30)
    await ensure_topics(kafka, [kafka.topic_activities])

    async with Producer(kafka) as producer, box.relay(producer) as relay:
        await box.append(*before)
        await eventually(box.all_sent, what="the first rows published")

        await asyncio.to_thread(own_broker.down)
        for start in range(0, len(during), 10):  # writes never wait for the broker
            await box.append(*during[start : start + 10])

        async def failing_with_backlog() -> bool:
            return not relay.ready and backlog_gauge() == len(during)

        await eventually(
            failing_with_backlog,
            what="the relay failing and the backlog gauge counting the unsent rows",
        )
        assert await box.unsent() == len(during)

        await asyncio.to_thread(own_broker.up)  # with its data: the topic is still there
        await eventually(box.all_sent, what="every row published after the broker came back")

        async def recovered() -> bool:
            return relay.ready and backlog_gauge() == 0

        await eventually(recovered, what="the relay ready and the backlog gauge back at 0")

    records = await read_topic(kafka, kafka.topic_activities)
    published = ids_by_key(records)
    for key, ids in expected_by_key(before).items():
        assert first_seen(published[key])[: len(ids)] == ids  # kept by the restarted broker
    for key, ids in expected_by_key(during).items():
        # At least once, and a duplicate is the same activity (same id) again.
        assert [i for i in first_seen(published[key]) if i in ids] == ids
    assert {i for ids in published.values() for i in ids} == {a.id for a in before + during}


async def test_the_relay_runs_as_a_worker_of_the_service_and_readyz_reports_it(
    box: Outbox, tenant: str
) -> None:
    activities = posts(tenant, ["ada"], 3)

    app = create_app(box.settings, Mode.ALL)
    async with serve(app) as client:
        workers = [type(worker) for worker in app.state.runtime.workers]
        assert workers == [OutboxRelay, ExportPurge]

        async def ready() -> dict[str, str] | None:
            response = await client.get("/readyz")
            return response.json()["checks"] if response.status_code == 200 else None

        checks = await eventually(ready, what="/readyz to answer 200")
        await box.append(*activities)
        await eventually(box.all_sent, what="the service's relay to publish the rows")

    assert checks["workers"] == "ok"
    api_only = create_app(box.settings, Mode.API)
    async with serve(api_only):
        assert api_only.state.runtime.workers == []
