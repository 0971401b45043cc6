"""The operator's DLQ command against the real broker: real consumers dead-letter records, the
command lists, shows and replays them (``python -m canopy_common.dead_letters``, run as an
operator runs it, in a process of its own)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from canopy_common.kafka import ConsumedRecord, Consumer, Producer, ensure_topics
from canopy_common.settings import KafkaSettings
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration


class Refused(Exception):
    """What the test's handlers raise for a record they will not apply (yet)."""


@dataclass
class Picky:
    """A handler that refuses values in ``refuses`` as poison and remembers the rest."""

    refuses: set[bytes]
    applied: list[ConsumedRecord] = field(default_factory=list)

    async def __call__(self, record: ConsumedRecord) -> None:
        if record.value in self.refuses:
            raise Refused(f"will not apply {record.value!r}")
        self.applied.append(record)


@dataclass
class Command:
    """Runs the command in a process of its own, on ``settings``' broker and DLQ."""

    settings: KafkaSettings

    async def __call__(self, *args: str) -> tuple[int, str, str]:
        env = os.environ | {
            "CANOPY_KAFKA_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers,
            "CANOPY_KAFKA_TOPIC_DLQ": self.settings.topic_dlq,
            "CANOPY_LOG_JSON": "true",
            "COLUMNS": "200",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "canopy_common.dead_letters",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def json(self, *args: str) -> list[dict[str, Any]]:
        status, out, err = await self(*args, "--json")
        assert status == 0, err
        return [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]


@dataclass
class Scene:
    settings: KafkaSettings
    topics: tuple[str, str]
    groups: tuple[str, str]
    handlers: tuple[Picky, Picky]
    command: Command


@pytest.fixture
async def scene(kafka_settings: KafkaSettings) -> AsyncIterator[Scene]:
    """Two topics, each with a consumer group of its own whose handler refuses some values;
    a DLQ of the test's own."""
    suffix = uuid.uuid4().hex[:10]
    settings = kafka_settings.model_copy(update={"topic_dlq": f"test.dlq.{suffix}"})
    topics = (f"test.orders.{suffix}", f"test.invoices.{suffix}")
    groups = (f"test-orders-{suffix}", f"test-invoices-{suffix}")
    await ensure_topics(settings, [*topics, settings.topic_dlq])
    handlers = (Picky({b"order-2", b"order-3"}), Picky({b"invoice-1"}))
    consumers = [
        Consumer(settings, service="dlq_test", group_id=group, topics=[topic], handler=handler)
        for topic, group, handler in zip(topics, groups, handlers, strict=True)
    ]
    for consumer in consumers:
        await consumer.start()
    try:
        async with Producer(settings) as producer:
            sent = ([b"order-1", b"order-2", b"order-3"], [b"invoice-1", b"invoice-2"])
            for topic, values in zip(topics, sent, strict=True):
                for value in values:
                    key = f"key-{value.decode()}"
                    await producer.send(topic, value, key=key, headers={"x-origin": "shop"})
        scene = Scene(settings, topics, groups, handlers, Command(settings))
        await eventually(
            lambda: _count(read_topic(settings, settings.topic_dlq), 3), what="3 dead letters"
        )
        await eventually(
            lambda: _done(len(handlers[0].applied) == 1 and len(handlers[1].applied) == 1),
            what="the valid records applied",
        )
        yield scene
    finally:
        for consumer in consumers:
            await consumer.stop()


async def _count(records: Any, n: int) -> bool:
    return len(await records) >= n


async def _done(condition: bool) -> bool:
    return condition


async def test_list_filters_by_topic_group_error_class_and_time(scene: Scene) -> None:
    orders, invoices = scene.topics

    every = await scene.command.json("list")
    by_topic = await scene.command.json("list", "--topic", orders)
    by_group = await scene.command.json("list", "--group", scene.groups[1])
    by_class = await scene.command.json("list", "--error-class", "Refused")
    by_full_class = await scene.command.json("list", "--error-class", f"{__name__}.Refused")
    other_class = await scene.command.json("list", "--error-class", "InvalidActivity")
    recent = await scene.command.json("list", "--since", "10m")
    future = await scene.command.json("list", "--since", "2999-01-01T00:00:00Z")
    before = await scene.command.json("list", "--until", "2000-01-01T00:00:00+00:00")

    assert sorted((r["topic"], r["key"]) for r in every) == [
        (invoices, "key-invoice-1"),
        (orders, "key-order-2"),
        (orders, "key-order-3"),
    ]
    assert {r["group"] for r in every} == set(scene.groups)
    assert {r["error_message"] for r in every} == {
        "will not apply b'order-2'",
        "will not apply b'order-3'",
        "will not apply b'invoice-1'",
    }
    assert sorted(r["key"] for r in by_topic) == ["key-order-2", "key-order-3"]
    assert [r["key"] for r in by_group] == ["key-invoice-1"]
    assert len(by_class) == len(by_full_class) == len(recent) == 3
    assert other_class == future == before == []


async def test_show_prints_a_letter_whole(scene: Scene) -> None:
    [letter] = await scene.command.json("list", "--group", scene.groups[1])

    [shown] = await scene.command.json("show", letter["letter"])
    status, _, err = await scene.command("show", "999:0")

    assert shown["value"] == "invoice-1"
    assert shown["headers"]["x-origin"] == "shop"
    assert shown["headers"]["dlq.original.topic"] == scene.topics[1]
    assert shown["headers"]["dlq.consumer.group"] == scene.groups[1]
    assert shown["headers"]["dlq.error.class"] == f"{__name__}.Refused"
    assert (status, "no dead letter at 999:0") == (1, err.strip().removeprefix("error: "))


async def test_replay_publishes_the_original_records_to_their_topic_and_they_are_applied(
    scene: Scene,
) -> None:
    orders_handler = scene.handlers[0]
    orders_handler.refuses.clear()  # the cause is fixed
    dry_status, dry_out, _ = await scene.command("replay", "--group", scene.groups[0], "--dry-run")
    refused_status, _, refused_err = await scene.command("replay")

    status, out, err = await scene.command("replay", "--group", scene.groups[0])

    assert dry_status == 0
    assert "2 dead letters" in dry_out
    assert (refused_status, "replay needs a filter, letters, or --all") == (
        2,
        refused_err.strip().removeprefix("error: "),
    )
    assert status == 0, err
    assert "replayed 2 of 2 dead letters" in out
    assert "replaying" in err  # the progress bar
    await eventually(
        lambda: _done(len(orders_handler.applied) == 3), what="the replayed orders applied"
    )
    replayed = orders_handler.applied[1:]
    assert sorted(r.value for r in replayed) == [b"order-2", b"order-3"]
    for record in replayed:
        assert record.key == b"key-" + record.value
        assert record.headers["x-origin"] == b"shop"
        assert not [name for name in record.headers if name.startswith("dlq.")]
    assert scene.handlers[1].applied[0].value == b"invoice-2"  # the other group untouched
    assert len(scene.handlers[1].applied) == 1
    [audit] = [
        line
        for line in (orjson.loads(text) for text in err.splitlines() if text.startswith("{"))
        if line.get("event") == "dead letters replayed"
    ]
    assert (audit["replayed"], audit["failed"], audit["filters"]) == (
        2,
        0,
        {"group": scene.groups[0]},
    )
