"""The analytics stream against the real broker, Postgres and Redis: at least once, poison to the
DLQ, outages retried, restarts resuming from the committed offsets (docs/architecture.md §7, §9)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import orjson
import pytest
import pytest_asyncio
from analytics_harness import Analytics, analytics_settings, running_analytics
from redis.asyncio import Redis

from canopy_analytics import handlers
from canopy_analytics.stream_metrics import BatchOutcome, Kind, StreamMetrics
from canopy_common.events import StrictActivity, encode
from canopy_common.settings import KafkaSettings
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.kafka import committed_offsets, read_topic, refusals
from canopy_testing.polling import eventually
from canopy_testing.services import record_key

pytestmark = pytest.mark.integration

Apply = Any  # the signature of handlers.apply_activities / apply_impressions


@pytest_asyncio.fixture(loop_scope="session")
async def own_analytics(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Analytics]:
    """A service of its own (schema, topics, group), for tests that stop or restart it."""
    settings = analytics_settings(kafka_settings, stream_stop_grace_s=2.0)
    async with running_analytics(settings, pg_pool, redis_client) as service:
        yield service


def uid(person: StrictActivity) -> str:
    return user_id_of_subject(person)


async def dead_letters(analytics: Analytics, key: bytes) -> list[Any]:
    records = await read_topic(analytics.settings.kafka, analytics.settings.kafka.topic_dlq)
    return [r for r in records if r.key == key]


async def committed_total(analytics: Analytics, topic: str) -> int:
    offsets = await committed_offsets(
        analytics.settings.kafka, analytics.settings.consumer_group, topic
    )
    return sum(offsets.values())


async def posts_counted(analytics: Analytics, tenant: str) -> int:
    n = await analytics.pool.fetchval(
        "SELECT coalesce(sum(n), 0) FROM daily_counts "
        "WHERE tenant_id = $1 AND group_id = '' AND metric = 'posts'",
        tenant,
    )
    return int(n)


async def viewers_of(analytics: Analytics, tenant: str, obj: str) -> list[str]:
    rows = await analytics.pool.fetch(
        "SELECT viewer_id FROM post_viewers WHERE tenant_id = $1 AND object_id = $2 "
        "ORDER BY viewer_id",
        tenant,
        obj,
    )
    return [row["viewer_id"] for row in rows]


def before_applying(
    monkeypatch: pytest.MonkeyPatch, fault: Callable[[Sequence[StrictActivity]], Awaitable[None]]
) -> None:
    """Await ``fault`` on every batch of activities before the real handler applies it: it may
    raise (a refusal, an outage) or wait (a slow batch)."""
    real: Apply = handlers.apply_activities

    async def faulty(activities: Sequence[StrictActivity], **kwargs: Any) -> int:
        await fault(activities)
        return int(await real(activities, **kwargs))

    monkeypatch.setattr(handlers, "apply_activities", faulty)


def metric(text: str, line_start: str) -> float:
    """The value of the sample whose line starts with ``line_start`` (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# -- readiness --------------------------------------------------------------------------------


async def test_the_service_is_ready_once_its_stream_has_joined_the_group(
    analytics: Analytics,
) -> None:
    ready = await analytics.client.get("/readyz")
    metrics = (await analytics.client.get("/metrics")).text

    assert ready.status_code == 200
    assert ready.json()["checks"]["workers"] == "ok"
    assert analytics.stream.ready
    assert metric(metrics, "canopy_analytics_stream_running ") == 1.0


# -- poison -----------------------------------------------------------------------------------


async def test_poison_activities_go_to_the_dlq_and_the_activities_behind_them_are_applied(
    analytics: Analytics, tenant_id: str
) -> None:
    f = ActivityFactory(tenant_id)
    ada = f.user("ada")
    post = f.post(ada, "After the poison")
    key = f"{tenant_id}:{uid(ada)}"
    topic = analytics.settings.kafka.topic_activities
    not_json = await analytics.producer.send(topic, b"{not json", key=key)
    not_strict = await analytics.producer.send(topic, b'{"type": "Create"}', key=key)

    await analytics.send(ada, post)  # same key: the same partition, behind the poison

    letters = await eventually(
        lambda: _at_least(dead_letters(analytics, key.encode()), 2), what="two dead letters"
    )
    assert [r.value for r in letters] == [b"{not json", b'{"type": "Create"}']
    for record, delivery in zip(letters, (not_json, not_strict), strict=True):
        headers = dict(record.headers)
        assert headers["dlq.original.topic"] == topic.encode()
        assert headers["dlq.original.partition"] == str(delivery.partition).encode()
        assert headers["dlq.original.offset"] == str(delivery.offset).encode()
        assert headers["dlq.consumer.group"] == analytics.settings.consumer_group.encode()
        assert headers["dlq.error.message"]
    assert dict(letters[0].headers)["dlq.error.class"].endswith(b"InvalidJSON")
    assert dict(letters[1].headers)["dlq.error.class"].endswith(b"InvalidActivity")
    assert await posts_counted(analytics, tenant_id) == 1


async def test_poison_impressions_go_to_the_dlq_and_the_impressions_behind_them_are_applied(
    analytics: Analytics, tenant_id: str
) -> None:
    f = ActivityFactory(tenant_id)
    ada, bob = f.user("ada"), f.user("bob")
    post = f.post(ada, "Seen after the poison")
    await analytics.send(ada, bob, post)
    key = f"{tenant_id}:{uid(bob)}"
    topic = analytics.settings.kafka.topic_impressions
    empty = orjson.dumps({"tenant": tenant_id, "viewer": uid(bob), "items": []})
    poison = [b"\xff not even text", empty]
    for value in poison:
        await analytics.producer.send(topic, value, key=key)

    await analytics.send_impressions(tenant_id, uid(bob), [post])

    letters = await eventually(
        lambda: _at_least(dead_letters(analytics, key.encode()), 2), what="two dead letters"
    )
    assert [r.value for r in letters] == poison
    for record in letters:
        headers = dict(record.headers)
        assert headers["dlq.original.topic"] == topic.encode()
        assert headers["dlq.consumer.group"] == analytics.settings.consumer_group.encode()
        assert headers["dlq.error.class"].endswith(b"InvalidImpressions")
    assert b"items" in dict(letters[1].headers)["dlq.error.message"]
    assert await viewers_of(analytics, tenant_id, subject_id(post)) == [uid(bob)]


async def test_activities_analytics_cannot_apply_go_to_the_dlq_and_the_next_is_applied(
    analytics: Analytics, tenant_id: str
) -> None:
    f = ActivityFactory(tenant_id)
    ada = f.user("ada")
    await analytics.send(ada)
    sent = await analytics.publish_unappliable(f.post(ada, "Never counted"))
    post = f.post(ada, "Counted")  # same key: behind the refused ones on their partition

    await analytics.send(post)

    letters = await analytics.dead_letters(record_key(post), at_least=2)
    assert [letter.value for letter in letters] == [u.value for u in sent]
    assert refusals(letters, analytics.settings.consumer_group) == [u.dead_letter() for u in sent]
    assert await posts_counted(analytics, tenant_id) == 1


async def test_a_record_the_handlers_refuse_goes_to_the_dlq_alone(
    analytics: Analytics, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = ActivityFactory(tenant_id)
    ada = f.user("ada")
    refused, kept = f.post(ada, "Refused"), f.post(ada, "Kept")

    async def refuse_one(activities: Sequence[StrictActivity]) -> None:
        if any(a.id == refused.id for a in activities):
            raise ValueError("cannot apply this one")

    before_applying(monkeypatch, refuse_one)
    await analytics.publish(ada, refused, kept)
    await analytics.settle(ada, kept)

    [letter] = await eventually(
        lambda: _at_least(dead_letters(analytics, f"{tenant_id}:{uid(ada)}".encode()), 1),
        what="the refused activity in the DLQ",
    )
    assert letter.value == encode(refused)
    assert dict(letter.headers)["dlq.error.class"] == b"ValueError"
    assert await posts_counted(analytics, tenant_id) == 1


# -- outages ----------------------------------------------------------------------------------


async def test_a_transient_failure_is_retried_never_dead_lettered(
    analytics: Analytics, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = ActivityFactory(tenant_id)
    ada = f.user("ada")
    post = f.post(ada, "Through an outage")
    attempts = 0

    async def postgres_down_twice(activities: Sequence[StrictActivity]) -> None:
        nonlocal attempts
        if any(a.tenant == tenant_id for a in activities):
            attempts += 1
            if attempts <= 2:
                raise asyncpg.CannotConnectNowError("the database system is starting up")

    before_applying(monkeypatch, postgres_down_twice)
    before = metric(
        (await analytics.client.get("/metrics")).text,
        'canopy_analytics_stream_records_total{kind="activities",outcome="retried"}',
    )

    await analytics.send(post)  # alone, so that every attempt is one batch of one record

    after = metric(
        (await analytics.client.get("/metrics")).text,
        'canopy_analytics_stream_records_total{kind="activities",outcome="retried"}',
    )
    assert attempts == 3
    assert after - before == 2
    assert await dead_letters(analytics, f"{tenant_id}:{uid(ada)}".encode()) == []
    assert await posts_counted(analytics, tenant_id) == 1


async def test_a_batch_failing_through_the_stop_is_left_uncommitted_and_applied_after_restart(
    own_analytics: Analytics, monkeypatch: pytest.MonkeyPatch
) -> None:
    analytics = own_analytics
    f = ActivityFactory()
    ada = f.user("ada")
    post = f.post(ada, "Redis is down")
    redis_down, failed = True, asyncio.Event()

    async def failing_while_down(activities: Sequence[StrictActivity]) -> None:
        if redis_down:
            failed.set()
            raise ConnectionError("Redis is down")

    before_applying(monkeypatch, failing_while_down)
    [delivery] = await analytics.publish(post)
    await asyncio.wait_for(failed.wait(), 10)

    await analytics.stop_service()  # gives up after stream_stop_grace_s
    committed = await committed_offsets(
        analytics.settings.kafka, analytics.settings.consumer_group, delivery.topic
    )
    redis_down = False
    await analytics.start_service()
    await analytics.settle(post)

    assert committed.get(delivery.partition, 0) <= delivery.offset
    assert await dead_letters(analytics, f"{f.tenant_id}:{uid(ada)}".encode()) == []
    assert await posts_counted(analytics, f.tenant_id) == 1


# -- stop and restart -------------------------------------------------------------------------


async def test_stop_finishes_the_batch_in_flight_and_commits_it(
    own_analytics: Analytics, monkeypatch: pytest.MonkeyPatch
) -> None:
    analytics = own_analytics
    f = ActivityFactory()
    ada = f.user("ada")
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(activities: Sequence[StrictActivity]) -> None:
        entered.set()
        await release.wait()

    before_applying(monkeypatch, slow)
    [delivery] = await analytics.publish(ada)
    await asyncio.wait_for(entered.wait(), 10)

    stopping = asyncio.create_task(analytics.stop_service())
    await asyncio.sleep(0.5)
    assert not stopping.done()  # waits for the batch in flight
    release.set()
    await stopping

    count = await analytics.pool.fetchval(
        "SELECT count(*) FROM consumed_activities WHERE activity_id = $1", ada.id
    )
    committed = await committed_offsets(
        analytics.settings.kafka, analytics.settings.consumer_group, delivery.topic
    )
    assert count == 1
    assert committed[delivery.partition] == delivery.offset + 1


async def test_a_restarted_service_resumes_from_its_committed_offsets(
    own_analytics: Analytics,
) -> None:
    analytics = own_analytics
    kafka = analytics.settings.kafka
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    first = [f.post(ada, f"Before the restart {i}") for i in range(3)]
    then = [f.post(bob, f"While it was down {i}") for i in range(2)]
    await analytics.send(ada, bob, *first)
    await analytics.send_impressions(f.tenant_id, uid(bob), first)
    duplicates_before = await _duplicates(analytics)

    await analytics.stop_service()
    committed_at_stop = await committed_total(analytics, kafka.topic_activities)
    await analytics.publish(*then)
    seen_while_down = await analytics.publish_impressions(f.tenant_id, uid(ada), then)
    await analytics.start_service()
    await analytics.settle(*then)
    await analytics.settle_impressions(seen_while_down)

    assert committed_at_stop == 5  # two people and three posts, all committed at the stop
    # The new instance took over at the committed offsets: nothing came twice.
    assert await _duplicates(analytics) == duplicates_before
    assert await posts_counted(analytics, f.tenant_id) == 5
    assert await viewers_of(analytics, f.tenant_id, subject_id(first[0])) == [uid(bob)]
    assert await viewers_of(analytics, f.tenant_id, subject_id(then[0])) == [uid(ada)]
    assert await _eventually_committed(analytics, kafka.topic_activities, 7)


async def test_a_bug_while_applying_restarts_the_stream_from_the_committed_offsets(
    own_analytics: Analytics, monkeypatch: pytest.MonkeyPatch
) -> None:
    analytics = own_analytics
    f = ActivityFactory()
    ada = f.user("ada")
    post = f.post(ada, "Applied, then the bug")
    real_count = StreamMetrics.count
    bugs = 0

    def count_with_a_bug(self: StreamMetrics, kind: Kind, outcome: BatchOutcome) -> None:
        nonlocal bugs
        if kind is Kind.ACTIVITIES and outcome.applied and not bugs:
            bugs += 1
            raise RuntimeError("a bug after the batch was applied")
        real_count(self, kind, outcome)

    monkeypatch.setattr(StreamMetrics, "count", count_with_a_bug)
    duplicates_before = await _duplicates(analytics)
    deliveries = await analytics.publish(ada, post)

    # The batch stays unacked; a new app takes the partitions and gets it again.
    await eventually(
        lambda: _duplicates_above(analytics, duplicates_before),
        what="the batch redelivered after the restart",
        timeout_s=60,
    )
    await _eventually_committed(analytics, deliveries[0].topic, 2)

    assert bugs == 1
    assert analytics.stream.ready
    assert await posts_counted(analytics, f.tenant_id) == 1


async def test_two_instances_share_the_partitions_and_hand_them_over_when_one_stops(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> None:
    settings = analytics_settings(kafka_settings, stream_stop_grace_s=2.0)
    f = ActivityFactory()
    people = [f.user(f"u{i}") for i in range(6)]
    posts = [f.post(person, f"Post {i}") for i, person in enumerate(people)]
    async with running_analytics(settings, pg_pool, redis_client) as first:
        await first.send(*people)
        async with running_analytics(settings, pg_pool, redis_client) as second:

            async def shared() -> bool:
                a, b = first.stream.assignment, second.stream.assignment
                return bool(a and b and not a & b)

            await eventually(shared, what="both members holding partitions", timeout_s=60)
            await first.send(*posts[:3])
            await first.stop_service()

            async def taken_over() -> bool:
                return len(second.stream.assignment) == 2 * kafka_settings.partitions

            await eventually(taken_over, what="the second holding every partition", timeout_s=60)
            await second.send(*posts[3:])

            assert await posts_counted(second, f.tenant_id) == len(posts)


async def _duplicates_above(analytics: Analytics, before: float) -> bool:
    return await _duplicates(analytics) > before


async def _eventually_committed(analytics: Analytics, topic: str, total: int) -> bool:
    async def reached() -> bool:
        return await committed_total(analytics, topic) == total

    return await eventually(reached, what=f"{total} records committed")


async def _duplicates(analytics: Analytics) -> float:
    text = (await analytics.client.get("/metrics")).text
    return metric(
        text, 'canopy_analytics_stream_records_total{kind="activities",outcome="duplicate"}'
    )


async def _at_least(found: Any, n: int) -> list[Any] | None:
    records: list[Any] = await found
    return records if len(records) >= n else None
