"""The producer and the consumer loop against a real broker: commits, DLQ, retries, traces."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
from prometheus_client import REGISTRY

from canopy_common.kafka import (
    ConsumedRecord,
    Consumer,
    Delivery,
    Producer,
    TransientError,
    ensure_topics,
    loads,
)
from canopy_common.settings import KafkaSettings
from canopy_common.tracing import (
    current_traceparent,
    new_traceparent,
    parse_traceparent,
    use_traceparent,
)
from canopy_testing.kafka import committed_offsets, read_topic

pytestmark = pytest.mark.integration

SERVICE = "kafka_test"
WAIT_S = 20.0


@dataclass
class Scenario:
    """One test's own topic, DLQ topic and consumer group, on settings tuned for speed."""

    settings: KafkaSettings
    topic: str
    group: str

    @property
    def dlq(self) -> str:
        return self.settings.topic_dlq

    def consumer(self, handler: Callable[[ConsumedRecord], Awaitable[None]]) -> Consumer:
        return Consumer(
            self.settings,
            service=SERVICE,
            group_id=self.group,
            topics=[self.topic],
            handler=handler,
        )


@pytest.fixture
async def scenario(kafka_settings: KafkaSettings) -> Scenario:
    suffix = uuid.uuid4().hex[:10]
    settings = kafka_settings.model_copy(
        update={
            "topic_dlq": f"test.dlq.{suffix}",
            "retry_backoff_initial_ms": 20,
            "retry_backoff_max_ms": 300,
            "max_retries": 5,
        }
    )
    topic = f"test.kafka.{suffix}"
    await ensure_topics(settings, [topic, settings.topic_dlq])
    return Scenario(settings, topic, group=f"test-group-{suffix}")


@dataclass
class Recorder:
    """A handler that remembers what it handled and can fail on cue."""

    fail: Callable[[ConsumedRecord, int], BaseException | None] = lambda record, attempt: None
    handled: list[ConsumedRecord] = field(default_factory=list)
    attempts: dict[bytes, list[float]] = field(default_factory=dict)
    seen_traceparents: list[str | None] = field(default_factory=list)
    seen_log_trace_ids: list[Any] = field(default_factory=list)

    async def __call__(self, record: ConsumedRecord) -> None:
        attempts = self.attempts.setdefault(record.value, [])
        attempts.append(time.monotonic())
        error = self.fail(record, len(attempts))
        if error is not None:
            raise error
        loads(record.value)  # bad JSON is poison
        self.seen_traceparents.append(current_traceparent())
        self.seen_log_trace_ids.append(structlog.contextvars.get_contextvars().get("trace_id"))
        self.handled.append(record)

    @property
    def values(self) -> list[bytes]:
        return [record.value for record in self.handled]


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            while not condition():  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def send_all(
    settings: KafkaSettings, topic: str, values: list[bytes], *, key: str | None = None
) -> list[Delivery]:
    async with Producer(settings) as producer:
        return [
            await producer.send(topic, value, key=key or f"k{i}", headers={"x-origin": "test"})
            for i, value in enumerate(values)
        ]


def metric(topic: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        f"canopy_{SERVICE}_consumer_records_total", {"topic": topic, "outcome": outcome}
    )
    return value or 0.0


def lag(topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        f"canopy_{SERVICE}_consumer_lag_records", {"topic": topic, "partition": str(partition)}
    )


def per_partition(deliveries: list[Delivery]) -> dict[int, int]:
    """The offset a consumer commits once it has handled all of ``deliveries``."""
    ends: dict[int, int] = {}
    for delivery in deliveries:
        ends[delivery.partition] = max(ends.get(delivery.partition, 0), delivery.offset + 1)
    return ends


async def test_records_are_handled_and_committed_after_success(scenario: Scenario) -> None:
    values = [b'{"n": %d}' % i for i in range(6)]
    deliveries = await send_all(scenario.settings, scenario.topic, values)
    recorder = Recorder()

    async with scenario.consumer(recorder) as consumer:
        await wait_until(lambda: len(recorder.handled) == len(values), "every record")
        assert consumer.assigned
        await wait_until(
            lambda: all(lag(scenario.topic, p) == 0 for p in per_partition(deliveries)),
            "the lag gauge to reach 0",
        )

    assert not consumer.assigned
    assert sorted(recorder.values) == sorted(values)
    assert {r.header("x-origin") for r in recorder.handled} == {"test"}
    assert all(r.timestamp is not None and r.timestamp.tzinfo is UTC for r in recorder.handled)
    assert await committed_offsets(scenario.settings, scenario.group, scenario.topic) == (
        per_partition(deliveries)
    )
    assert metric(scenario.topic, "processed") == len(values)
    assert await read_topic(scenario.settings, scenario.dlq) == []


async def test_poison_record_is_dead_lettered_and_the_record_behind_it_still_flows(
    scenario: Scenario,
) -> None:
    values = [b'{"n": 1}', b"not json {", b'{"n": 3}']
    deliveries = await send_all(scenario.settings, scenario.topic, values, key="one-actor")
    poison = deliveries[1]
    recorder = Recorder()

    async with scenario.consumer(recorder):
        await wait_until(lambda: b'{"n": 3}' in recorder.values, "the record behind the poison")

    assert recorder.values == [b'{"n": 1}', b'{"n": 3}']
    [dead] = await read_topic(scenario.settings, scenario.dlq)
    assert (dead.key, dead.value) == (b"one-actor", b"not json {")
    headers = dict(dead.headers)
    assert headers["x-origin"] == b"test"
    assert parse_traceparent(headers["traceparent"]) is not None
    assert headers["dlq.original.topic"] == scenario.topic.encode()
    assert headers["dlq.original.partition"] == str(poison.partition).encode()
    assert headers["dlq.original.offset"] == str(poison.offset).encode()
    assert headers["dlq.consumer.group"] == scenario.group.encode()
    assert headers["dlq.error.class"].endswith(b"JSONDecodeError")
    assert 0 < len(headers["dlq.error.message"]) <= 1024
    dead_at = datetime.fromisoformat(headers["dlq.timestamp"].decode())
    assert dead_at.utcoffset() == timedelta(0)  # ISO 8601, UTC
    assert await committed_offsets(scenario.settings, scenario.group, scenario.topic) == {
        poison.partition: 3
    }
    assert metric(scenario.topic, "dead_lettered") == 1


async def test_transient_failure_is_retried_until_it_succeeds_and_is_never_dead_lettered(
    scenario: Scenario,
) -> None:
    values = [b'{"n": 1}', b'{"n": 2}']
    deliveries = await send_all(scenario.settings, scenario.topic, values, key="one-actor")

    def postgres_down_twice(record: ConsumedRecord, attempt: int) -> BaseException | None:
        if record.value == b'{"n": 1}' and attempt <= 2:
            return ConnectionError("connection refused")
        return None

    recorder = Recorder(fail=postgres_down_twice)
    async with scenario.consumer(recorder):
        await wait_until(lambda: len(recorder.handled) == 2, "both records")

    assert recorder.values == values  # handled once each, in order
    assert len(recorder.attempts[b'{"n": 1}']) == 3
    assert await read_topic(scenario.settings, scenario.dlq) == []
    assert await committed_offsets(scenario.settings, scenario.group, scenario.topic) == (
        per_partition(deliveries)
    )
    assert metric(scenario.topic, "retried") == 2
    assert metric(scenario.topic, "processed") == 2


async def test_transient_failure_outlasting_the_retries_pauses_then_tries_again(
    scenario: Scenario,
) -> None:
    settings = scenario.settings.model_copy(update={"max_retries": 1})
    scenario = Scenario(settings, scenario.topic, scenario.group)
    values = [b'{"n": 1}', b'{"n": 2}']
    await send_all(settings, scenario.topic, values, key="one-actor")

    def down_for_four_attempts(record: ConsumedRecord, attempt: int) -> BaseException | None:
        if record.value == b'{"n": 1}' and attempt <= 4:
            return TransientError("database unavailable")
        return None

    recorder = Recorder(fail=down_for_four_attempts)
    async with scenario.consumer(recorder):
        await wait_until(lambda: len(recorder.handled) == 2, "both records")

    assert recorder.values == values
    tries = recorder.attempts[b'{"n": 1}']
    assert len(tries) == 5  # 2 tries, pause, 2 tries, pause, success
    pause_s = settings.retry_backoff_max_ms / 1000
    assert tries[2] - tries[1] >= pause_s * 0.9
    assert tries[4] - tries[3] >= pause_s * 0.9
    assert await read_topic(settings, scenario.dlq) == []


async def test_a_restarted_consumer_resumes_from_the_committed_offset(scenario: Scenario) -> None:
    first = [b'{"batch": 1, "n": %d}' % i for i in range(4)]
    second = [b'{"batch": 2, "n": %d}' % i for i in range(4)]
    deliveries = await send_all(scenario.settings, scenario.topic, first)

    before = Recorder()
    async with scenario.consumer(before):
        await wait_until(lambda: len(before.handled) == len(first), "the first batch")
    deliveries += await send_all(scenario.settings, scenario.topic, second)

    after = Recorder()
    async with scenario.consumer(after):
        await wait_until(lambda: len(after.handled) >= len(second), "the second batch")

    assert sorted(before.values) == sorted(first)
    assert sorted(after.values) == sorted(second)  # nothing handled twice, nothing skipped
    assert await committed_offsets(scenario.settings, scenario.group, scenario.topic) == (
        per_partition(deliveries)
    )


async def test_traceparent_travels_from_producer_to_handler(scenario: Scenario) -> None:
    upstream = new_traceparent()
    async with Producer(scenario.settings) as producer:
        with use_traceparent(upstream):
            await producer.send(scenario.topic, {"n": 1}, key="traced")
        await producer.send(scenario.topic, {"n": 2}, key="traced")
    recorder = Recorder()

    async with scenario.consumer(recorder):
        await wait_until(lambda: len(recorder.handled) == 2, "both records")

    traced, untraced = recorder.handled
    sent = parse_traceparent(upstream)
    received = parse_traceparent(traced.header("traceparent"))
    in_handler = parse_traceparent(recorder.seen_traceparents[0])
    assert sent is not None
    assert received == sent
    assert in_handler is not None
    assert in_handler.trace_id == sent.trace_id  # the handler continues the producer's trace
    assert in_handler.span_id != sent.span_id  # ... in a span of its own
    assert recorder.seen_log_trace_ids[0] == sent.trace_id
    fresh = parse_traceparent(untraced.header("traceparent"))
    assert fresh is not None
    assert fresh.trace_id != sent.trace_id
    assert current_traceparent() is None


async def test_stop_finishes_the_record_in_flight_and_commits_it(scenario: Scenario) -> None:
    values = [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    deliveries = await send_all(scenario.settings, scenario.topic, values, key="one-actor")
    started, release = asyncio.Event(), asyncio.Event()
    recorder = Recorder()

    async def slow_first(record: ConsumedRecord) -> None:
        if record.value == values[0]:
            started.set()
            await release.wait()
        await recorder(record)

    consumer = scenario.consumer(slow_first)
    await consumer.start()
    try:
        async with asyncio.timeout(WAIT_S):
            await started.wait()
        stopping = asyncio.create_task(consumer.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # waits for the record in flight
        release.set()
        await stopping
    finally:
        await consumer.stop()

    assert recorder.values == [values[0]]
    assert await committed_offsets(scenario.settings, scenario.group, scenario.topic) == {
        deliveries[0].partition: 1
    }


async def test_a_consumer_started_while_the_broker_is_down_keeps_trying_and_stops_cleanly(
    scenario: Scenario,
) -> None:
    settings = scenario.settings.model_copy(update={"bootstrap_servers": "127.0.0.1:1"})
    consumer = Scenario(settings, scenario.topic, scenario.group).consumer(Recorder())

    await consumer.start()
    await asyncio.sleep(0.5)
    assert not consumer.assigned
    await consumer.stop()

    assert not consumer.assigned


async def test_a_rebalance_hands_partitions_over_without_losing_or_repeating_records(
    scenario: Scenario,
) -> None:
    values = [b'{"n": %d}' % i for i in range(80)]
    early, late = values[:40], values[40:]
    await send_all(scenario.settings, scenario.topic, early)
    first, second = Recorder(), Recorder()

    def slowly(recorder: Recorder) -> Callable[[ConsumedRecord], Awaitable[None]]:
        async def handle(record: ConsumedRecord) -> None:
            await asyncio.sleep(0.1)  # so the rebalance lands in the middle of a batch
            await recorder(record)

        return handle

    async with scenario.consumer(slowly(first)) as one:
        await wait_until(lambda: len(first.handled) >= 2, "the first consumer to start")
        async with scenario.consumer(slowly(second)) as two:
            await wait_until(lambda: two.assigned, "the second consumer to join")
            # The first may have drained its whole fetch before it let the partitions go.
            await send_all(scenario.settings, scenario.topic, late)
            await wait_until(
                lambda: len(first.handled) + len(second.handled) >= len(values), "every record"
            )
        assert one.assigned

    handled = first.values + second.values
    assert sorted(handled) == sorted(values)  # each exactly once
    assert second.handled, "the second consumer got partitions"
