"""Batch handling through the real broker: one call for a partition's records (or, with
``whole_fetch``, for a whole fetch), a poison record in the batch sends the consumer back to
record-by-record so only it is dead-lettered, and records the batch handler refuses are
dead-lettered without that detour."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import orjson
import pytest
import pytest_asyncio

from canopy_common.db import Connection, apply_migrations, close_pool, create_pool, load_migrations
from canopy_common.events import StrictActivity, encode
from canopy_common.inbox import activity_batch_handler, activity_handler
from canopy_common.kafka import (
    BatchHandler,
    ConsumedRecord,
    Consumer,
    Handler,
    Producer,
    Rejected,
    ensure_topics,
    loads,
)
from canopy_common.settings import KafkaSettings, PostgresSettings
from canopy_testing.factories import ActivityFactory
from canopy_testing.kafka import committed_offsets, read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration


async def fill(settings: KafkaSettings, topic: str, values: Sequence[bytes]) -> None:
    """Produce ``values`` to partition 0 of ``topic`` (one key), before anyone consumes."""
    async with Producer(settings) as producer:
        for value in values:
            await producer.send(topic, value, key="one-key")


async def consume_all(
    settings: KafkaSettings,
    topic: str,
    group: str,
    expected: int,
    *,
    handler: Handler,
    batch_handler: BatchHandler,
    whole_fetch: bool = False,
) -> None:
    """Run a consumer until its group has committed ``expected`` records of ``topic``."""
    consumer = Consumer(
        settings,
        service="batchtest",
        group_id=group,
        topics=[topic],
        handler=handler,
        batch_handler=batch_handler,
        whole_fetch=whole_fetch,
    )

    async def done() -> bool:
        return sum((await committed_offsets(settings, group, topic)).values()) >= expected

    async with consumer:
        await eventually(done, what=f"{expected} records committed")


@pytest.fixture
async def topic(kafka_settings: KafkaSettings) -> tuple[KafkaSettings, str, str]:
    suffix = uuid.uuid4().hex[:10]
    settings = kafka_settings.model_copy(
        update={"topic_dlq": f"test.dlq.{suffix}", "partitions": 1}
    )
    name = f"test.batch.{suffix}"
    await ensure_topics(settings, [name, settings.topic_dlq])
    return settings, name, f"test-batch-{suffix}"


async def test_a_partitions_records_go_to_the_batch_handler_together(
    topic: tuple[KafkaSettings, str, str],
) -> None:
    settings, name, group = topic
    values = [orjson.dumps({"n": i}) for i in range(50)]
    await fill(settings, name, values)
    batches: list[list[int]] = []
    one_by_one: list[int] = []

    async def batch(records: Sequence[ConsumedRecord]) -> None:
        batches.append([loads(r.value)["n"] for r in records])

    async def single(record: ConsumedRecord) -> None:
        one_by_one.append(loads(record.value)["n"])

    await consume_all(settings, name, group, 50, handler=single, batch_handler=batch)

    assert sorted([n for b in batches for n in b] + one_by_one) == list(range(50))
    assert max(len(b) for b in batches) > 1
    assert len(batches) < 50


async def test_a_poison_record_in_a_batch_is_dead_lettered_alone(
    topic: tuple[KafkaSettings, str, str],
) -> None:
    settings, name, group = topic
    values = [orjson.dumps({"n": i}) for i in range(10)]
    values[4] = b"{not json"
    await fill(settings, name, values)
    handled: list[int] = []

    async def batch(records: Sequence[ConsumedRecord]) -> None:
        decoded = [loads(r.value)["n"] for r in records]  # the bad one fails the batch
        handled.extend(decoded)

    async def single(record: ConsumedRecord) -> None:
        handled.append(loads(record.value)["n"])

    await consume_all(settings, name, group, 10, handler=single, batch_handler=batch)

    dead = await read_topic(settings, settings.topic_dlq)
    assert [r.value for r in dead] == [b"{not json"]
    assert sorted(set(handled)) == [0, 1, 2, 3, 5, 6, 7, 8, 9]


async def test_records_the_batch_handler_refuses_are_dead_lettered_and_the_rest_are_done(
    topic: tuple[KafkaSettings, str, str],
) -> None:
    settings, name, group = topic
    values = [orjson.dumps({"n": i}) for i in range(10)]
    values[3], values[7] = b"{not json", b"[]"
    await fill(settings, name, values)
    handled: list[int] = []
    single_calls: list[int] = []

    def value_of(record: ConsumedRecord) -> int:
        doc = loads(record.value)
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        return int(doc["n"])

    async def batch(records: Sequence[ConsumedRecord]) -> list[Rejected]:
        refused = []
        for record in records:
            try:
                handled.append(value_of(record))
            except ValueError as exc:
                refused.append(Rejected(record, exc))
        return refused

    async def single(record: ConsumedRecord) -> None:  # a batch of one comes here
        single_calls.append(record.offset)
        handled.append(value_of(record))

    await consume_all(settings, name, group, 10, handler=single, batch_handler=batch)

    dead = await read_topic(settings, settings.topic_dlq)
    assert [r.value for r in dead] == [b"{not json", b"[]"]
    headers = dict(dead[0].headers)
    assert headers["dlq.original.offset"] == b"3"
    assert headers["dlq.original.topic"] == name.encode()
    assert headers["dlq.consumer.group"] == group.encode()
    assert headers["dlq.error.class"].endswith(b"JSONDecodeError")
    assert sorted(handled) == [0, 1, 2, 4, 5, 6, 8, 9]
    assert len(single_calls) < 10  # the batch handler did the work


async def test_with_whole_fetch_one_call_takes_the_records_of_several_partitions_in_order(
    kafka_settings: KafkaSettings,
) -> None:
    suffix = uuid.uuid4().hex[:10]
    settings = kafka_settings.model_copy(
        update={"topic_dlq": f"test.dlq.{suffix}", "partitions": 3}
    )
    name, group = f"test.whole.{suffix}", f"test-whole-{suffix}"
    await ensure_topics(settings, [name, settings.topic_dlq])
    async with Producer(settings) as producer:
        for i in range(60):
            await producer.send(name, orjson.dumps({"n": i}), key=f"key{i % 6}")
    calls: list[list[tuple[int, int]]] = []

    async def batch(records: Sequence[ConsumedRecord]) -> None:
        calls.append([(r.partition, r.offset) for r in records])

    async def single(record: ConsumedRecord) -> None:
        calls.append([(record.partition, record.offset)])

    await consume_all(
        settings, name, group, 60, handler=single, batch_handler=batch, whole_fetch=True
    )

    seen = [entry for call in calls for entry in call]
    assert len(seen) == 60
    assert any(len({partition for partition, _ in call}) > 1 for call in calls)
    for partition in range(3):  # each partition's records in offset order
        offsets = [offset for p, offset in seen if p == partition]
        assert offsets == sorted(offsets)


@pytest_asyncio.fixture(loop_scope="session")
async def inbox_pool(stack: object, pg_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a throwaway schema holding the consumed_activities table."""
    schema = f"inbox_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(PostgresSettings(), schema=schema)
    await apply_migrations(pool, schema=schema, migrations=load_migrations("canopy_fanout"))
    yield pool
    await close_pool(pool)
    await pg_pool.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def test_the_batched_inbox_applies_each_activity_once_even_when_redelivered(
    topic: tuple[KafkaSettings, str, str], inbox_pool: asyncpg.Pool, tenant_id: str
) -> None:
    settings, name, group = topic
    factory = ActivityFactory(tenant_id)
    author = factory.user("ada")
    posts = [factory.post(author, f"post {i}") for i in range(20)]
    # Each post twice: the redeliveries share batches with the originals.
    await fill(settings, name, [encode(p) for p in posts] * 2)
    applied: list[str] = []

    async def effect(conn: Connection, activity: StrictActivity) -> None:
        applied.append(activity.id)

    await consume_all(
        settings,
        name,
        group,
        40,
        handler=activity_handler(inbox_pool, effect),
        batch_handler=activity_batch_handler(inbox_pool, effect),
    )

    assert applied == [p.id for p in posts]
    assert await inbox_pool.fetchval(
        "SELECT count(*) FROM consumed_activities WHERE tenant_id = $1", tenant_id
    ) == len(posts)
