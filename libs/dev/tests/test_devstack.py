"""The local stack: a broker started on a free port, Postgres and Redis reused, stopped exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from canopy_common.settings import KafkaSettings, PostgresSettings, RedisSettings
from canopy_dev.devstack import (
    DevStackError,
    LocalStack,
    StackEndpoints,
    is_port_open,
    kafka_answers,
    process_alive,
)
from canopy_dev.devstack.probes import free_port, url_address

pytestmark = pytest.mark.integration

PARTITIONS = 2  # fewer than the default 12: topic creation stays fast


@pytest.fixture
def local_stack(stack: StackEndpoints, tmp_path: Path) -> Iterator[LocalStack]:
    """A stack whose broker must be started (a free port); Postgres and Redis are the
    session's, running, so that this stack reuses them."""
    pg = PostgresSettings(dsn=stack.pg_dsn)
    redis = RedisSettings(url=stack.redis_url)
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", partitions=PARTITIONS)
    local = LocalStack(tmp_path / "run", pg, redis, kafka)
    yield local
    local.down()


def _broker_pid(local: LocalStack) -> int:
    record = local.records()["broker"]
    assert record.started
    assert record.pid is not None
    return record.pid


async def _partitions_by_topic(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        described = await admin.describe_topics()
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


async def test_up_starts_a_broker_with_every_topic_and_reuses_postgres_and_redis(
    local_stack: LocalStack,
) -> None:
    endpoints = await asyncio.to_thread(local_stack.up)

    host, port = url_address(f"kafka://{endpoints.kafka_bootstrap}", 9092)
    assert kafka_answers(host, port)
    assert process_alive(_broker_pid(local_stack))
    partitions = await _partitions_by_topic(endpoints.kafka_bootstrap)
    assert {topic: partitions.get(topic) for topic in local_stack.kafka.all_topics()} == {
        topic: PARTITIONS for topic in local_stack.kafka.all_topics()
    }
    records = local_stack.records()
    assert not records["postgres"].started
    assert not records["redis"].started
    assert (local_stack.run_dir / "kafka" / "data.log").exists()
    assert (local_stack.run_dir / "kafka" / "data" / "meta.properties").exists()


def test_down_stops_only_the_broker_it_started_and_twice_is_a_no_op(
    local_stack: LocalStack,
) -> None:
    local_stack.up()
    pid = _broker_pid(local_stack)

    assert local_stack.down() == ["broker"]

    assert not process_alive(pid)
    assert not Path(f"/proc/{pid}").exists()
    assert is_port_open(*url_address(local_stack.pg.dsn, 5432))
    assert is_port_open(*url_address(local_stack.redis.url, 6379))
    assert local_stack.records() == {}
    assert local_stack.down() == []


def test_up_twice_reuses_the_broker_it_already_started(local_stack: LocalStack) -> None:
    local_stack.up()
    first_pid = _broker_pid(local_stack)

    local_stack.up()

    assert _broker_pid(local_stack) == first_pid
    assert process_alive(first_pid)
    assert local_stack.down() == ["broker"]
    assert not process_alive(first_pid)


def test_status_tells_what_devstack_started(local_stack: LocalStack) -> None:
    local_stack.up()

    status = {server.name: server for server in local_stack.status()}

    assert all(server.running for server in status.values())
    assert status["broker"].started_by_devstack
    assert status["broker"].pid == _broker_pid(local_stack)
    assert not status["postgres"].started_by_devstack
    assert not status["redis"].started_by_devstack


def _fake_java(folder: Path, script: str) -> str:
    """A JAVA_HOME whose ``java`` formats nothing and runs ``script`` as the broker."""
    bin_dir = folder / "fake-jdk" / "bin"
    bin_dir.mkdir(parents=True)
    java = bin_dir / "java"
    java.write_text(f'#!/bin/sh\ncase "$*" in *kafka.tools.StorageTool*) exit 0;; esac\n{script}\n')
    java.chmod(0o755)
    return str(folder / "fake-jdk")


def test_a_broker_that_exits_at_start_is_reported_with_its_log(
    local_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _fake_java(tmp_path, "echo 'cannot bind the listener' >&2; exit 3")
    monkeypatch.setenv("JAVA_HOME", fake)

    with pytest.raises(DevStackError, match="exited at start") as failure:
        local_stack.up()

    assert "cannot bind the listener" in str(failure.value)  # the log's tail

    assert "broker" not in local_stack.records()
    assert local_stack.down() == []


def test_a_broker_that_never_answers_is_stopped_after_the_bounded_wait(
    local_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", _fake_java(tmp_path, "exec sleep 60"))
    local_stack.broker_start_timeout_s = 1.0

    with pytest.raises(DevStackError, match="did not answer"):
        local_stack.up()

    pid = int((local_stack.run_dir / "kafka" / "broker.pid").read_text())
    assert not process_alive(pid)


async def _produce_and_commit(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"kept", key=b"k", partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id="devstack-test", enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 1})
    finally:
        await consumer.stop()


async def _first_record_and_offset(bootstrap: str, topic: str) -> tuple[bytes, int | None]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id="devstack-test", enable_auto_commit=False
    )
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        # Just after a start the group coordinator may still be loading the offsets (answered
        # as none); a consumer joining the group waits for it.
        committed = None
        deadline = asyncio.get_running_loop().time() + 15
        while committed is None and asyncio.get_running_loop().time() < deadline:
            committed = await consumer.committed(partition)
            await asyncio.sleep(0.2)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        record = await asyncio.wait_for(consumer.getone(), 10)
        return record.value, committed
    finally:
        await consumer.stop()


async def test_down_then_up_keeps_topics_records_and_committed_offsets(
    local_stack: LocalStack,
) -> None:
    endpoints = await asyncio.to_thread(local_stack.up)
    topic = local_stack.kafka.topic_activities
    await _produce_and_commit(endpoints.kafka_bootstrap, topic)
    await asyncio.to_thread(local_stack.down)

    endpoints = await asyncio.to_thread(local_stack.up)

    assert await _first_record_and_offset(endpoints.kafka_bootstrap, topic) == (b"kept", 1)


async def test_a_fresh_broker_starts_empty(local_stack: LocalStack) -> None:
    endpoints = await asyncio.to_thread(local_stack.up)
    await _produce_and_commit(endpoints.kafka_bootstrap, local_stack.kafka.topic_dlq)
    await asyncio.to_thread(local_stack.down)
    local_stack.fresh_broker = True

    endpoints = await asyncio.to_thread(local_stack.up)

    consumer = AIOKafkaConsumer(bootstrap_servers=endpoints.kafka_bootstrap)
    await consumer.start()
    try:
        partition = TopicPartition(local_stack.kafka.topic_dlq, 0)
        assert (await consumer.end_offsets([partition]))[partition] == 0
    finally:
        await consumer.stop()


def test_missing_kafka_jars_say_how_to_get_them(
    local_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANOPY_KAFKA_HOME", str(tmp_path / "nowhere"))

    with pytest.raises(DevStackError, match="make setup") as failure:
        local_stack.up()

    assert "Maven Central" in str(failure.value)
    assert local_stack.down() == []


def test_missing_java_says_how_to_get_it(
    local_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it

    with pytest.raises(DevStackError, match="needs Java 17"):
        local_stack.up()
