"""Looking at topics and consumer groups from tests, without joining the group."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import for_code

from canopy_common.consuming import DeadLetterHeaders
from canopy_common.kafka_security import client_security
from canopy_common.settings import KafkaSettings

READ_TIMEOUT_S = 20.0


async def committed_offsets(settings: KafkaSettings, group: str, topic: str) -> dict[int, int]:
    """The group's committed offsets in ``topic``, by partition (unset ones left out)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        **client_security(settings),
    )
    await consumer.start()
    try:
        offsets = {
            p: await consumer.committed(TopicPartition(topic, p))
            for p in range(settings.partitions)
        }
    finally:
        await consumer.stop()
    return {p: offset for p, offset in offsets.items() if offset is not None}


async def read_topic(settings: KafkaSettings, topic: str) -> list[Any]:
    """Every record in ``topic`` right now (aiokafka ``ConsumerRecord``s), partition by
    partition in offset order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        **client_security(settings),
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        async with asyncio.timeout(READ_TIMEOUT_S):
            while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


def dead_letter_of(record: Any) -> DeadLetterHeaders:
    """The ``dlq.*`` headers of a record read off the DLQ (which must have them)."""
    found = DeadLetterHeaders.read(record.headers)
    assert found is not None, f"no dlq headers on {record!r}"
    return found


def refusals(letters: Any, group: str) -> list[tuple[str, int, int, str, str]]:
    """Where each dead letter came from and why it was refused: (original topic, partition,
    offset, error class without its module, error message), checking it names ``group``."""
    found = [dead_letter_of(letter) for letter in letters]
    assert {h.group for h in found} <= {group}, f"dead letters of other groups: {found}"
    return [
        (
            h.original_topic,
            h.original_partition,
            h.original_offset,
            h.error_class.rsplit(".", 1)[-1],
            h.error_message,
        )
        for h in found
    ]


@dataclass(frozen=True)
class GroupMember:
    """One member of a consumer group: its client id and the partitions it was assigned."""

    member_id: str
    client_id: str
    partitions: frozenset[tuple[str, int]]


@dataclass(frozen=True)
class GroupDescription:
    """A consumer group as its coordinator describes it. ``state`` is ``Stable`` once every
    member has its assignment (``PreparingRebalance`` and ``CompletingRebalance`` meanwhile,
    ``Empty`` with no members)."""

    state: str
    members: tuple[GroupMember, ...]


async def describe_group(settings: KafkaSettings, group: str) -> GroupDescription:
    """The broker's description of ``group`` (members of the classic consumer protocol)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, **client_security(settings)
    )
    await admin.start()
    try:
        # One group per request: aiokafka 0.14 reads DescribeGroups v3 answers with the v2
        # schema, which lacks each group's trailing field; only a lone group decodes right.
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    [(error_code, _, state, _, _, members, *_)] = response.groups
    if error_code:
        raise for_code(error_code)(f"describing consumer group {group}")
    return GroupDescription(
        state=state,
        members=tuple(
            GroupMember(member_id, client_id, _assigned(assignment))
            for member_id, client_id, _, _, assignment in members
        ),
    )


def _assigned(assignment: bytes) -> frozenset[tuple[str, int]]:
    if not assignment:  # none yet: the group is rebalancing
        return frozenset()
    decoded = ConsumerProtocolMemberAssignment.decode(assignment)
    return frozenset((tp.topic, tp.partition) for tp in decoded.partitions())
