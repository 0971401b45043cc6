"""Reading the DLQ topic: every dead letter with the ``dlq.*`` headers the consumers put on it
(:func:`canopy_common.consuming.dead_letters.dead_letter_headers`), filtered by the original
topic, the consumer group, the error class and the time it was dead-lettered.

The DLQ is read without a consumer group: assigned partitions, from the beginning (or the
first offset at ``since``) up to the end offsets seen when the read starts, so nothing is
committed and a read never waits for new letters.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from canopy_common.consuming import DeadLetterHeaders, original_headers
from canopy_common.settings import KafkaSettings

# A read holds at most this many records per fetch in memory; letters can be large (1 MB).
FETCH_RECORDS = 200


@dataclass(frozen=True, slots=True)
class LetterId:
    """A dead letter's place in the DLQ topic, written ``partition:offset``."""

    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> LetterId:
        """``"3:17"`` → ``LetterId(3, 17)``; ``ValueError`` for anything else."""
        partition, sep, offset = text.partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise ValueError(f"a dead letter is named partition:offset, not {text!r}")
        return cls(int(partition), int(offset))

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of the DLQ: where it sits, the original key and value, every header, and
    the ``dlq.*`` ones read back (``why``)."""

    id: LetterId
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    why: DeadLetterHeaders
    timestamp: datetime | None  # the DLQ record's own timestamp

    @property
    def dead_lettered_at(self) -> datetime | None:
        """When it was dead-lettered: ``dlq.timestamp``, else the record's timestamp."""
        return self.why.timestamp or self.timestamp

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the original record carried (the DLQ's own left out)."""
        return original_headers(self.headers)


@dataclass(frozen=True, slots=True)
class Filters:
    """Which dead letters to select; an unset field selects everything.

    ``error_class`` matches the qualified class name or its last part
    (``InvalidActivity`` or ``canopy_common.events.InvalidActivity``); ``since`` and
    ``until`` bound the time it was dead-lettered (``since`` included, ``until`` not);
    ``ids`` picks letters by place.
    """

    topic: str | None = None
    group: str | None = None
    error_class: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: frozenset[LetterId] = frozenset()

    def __post_init__(self) -> None:
        for bound in (self.since, self.until):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("since and until must say their timezone")

    def matches(self, letter: DeadLetter) -> bool:
        """Whether ``letter`` is selected."""
        why = letter.why
        if self.ids and letter.id not in self.ids:
            return False
        if self.topic is not None and why.original_topic != self.topic:
            return False
        if self.group is not None and why.group != self.group:
            return False
        if self.error_class is not None and self.error_class not in (
            why.error_class,
            why.error_class.rsplit(".", 1)[-1],
        ):
            return False
        at = letter.dead_lettered_at
        if self.since is not None and (at is None or at < self.since):
            return False
        return not (self.until is not None and (at is None or at >= self.until))

    def describe(self) -> dict[str, Any]:
        """The filters that are set, for logs and the audit record."""
        found: dict[str, Any] = {
            "topic": self.topic,
            "group": self.group,
            "error_class": self.error_class,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "ids": sorted(str(i) for i in self.ids) or None,
        }
        return {name: value for name, value in found.items() if value is not None}


def dead_letter(raw: Any) -> DeadLetter | None:
    """An aiokafka record of the DLQ as a :class:`DeadLetter`; ``None`` when it lacks the
    ``dlq.*`` headers (nothing Canopy wrote there)."""
    headers = tuple(raw.headers or ())
    why = DeadLetterHeaders.read(headers)
    if why is None:
        return None
    timestamp = raw.timestamp
    return DeadLetter(
        id=LetterId(raw.partition, raw.offset),
        key=raw.key,
        value=raw.value,
        headers=headers,
        why=why,
        timestamp=(
            datetime.fromtimestamp(timestamp / 1000, UTC)
            if timestamp is not None and timestamp >= 0
            else None
        ),
    )


async def read_dead_letters(
    settings: KafkaSettings, filters: Filters = Filters(), *, topic: str | None = None
) -> AsyncGenerator[DeadLetter, None]:
    """The dead letters of ``topic`` (default: the settings' DLQ) that ``filters`` select,
    partition by partition in offset order, as they stand when the read starts."""
    dlq = topic or settings.topic_dlq
    wanted = {i.partition for i in filters.ids}
    partitions = [p for p in await _partitions(settings, dlq) if not wanted or p in wanted]
    if not partitions:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-dead-letters",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=settings.request_timeout_ms,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(dlq, p) for p in partitions]
        consumer.assign(tps)
        await _seek_to_start(consumer, tps, filters)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            async for letter in _read_partition(consumer, tp, ends[tp], tps):
                if filters.matches(letter):
                    yield letter
    finally:
        await consumer.stop()


async def _partitions(settings: KafkaSettings, topic: str) -> list[int]:
    """The partitions of ``topic`` (none when it does not exist)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id}-dead-letters",
        request_timeout_ms=settings.request_timeout_ms,
    )
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described.get("error_code"):
        return []
    return sorted(p["partition"] for p in described.get("partitions", ()))


async def _seek_to_start(
    consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], filters: Filters
) -> None:
    """Start at the beginning, or at the first record written at ``since`` (a record's own
    timestamp is when it was dead-lettered, give or take the clock of the consumer's host)."""
    await consumer.seek_to_beginning(*tps)
    if filters.since is None:
        return
    found = await consumer.offsets_for_times(
        {tp: int(filters.since.timestamp() * 1000) - _CLOCK_SLACK_MS for tp in tps}
    )
    for tp in tps:
        at = found.get(tp)
        if at is None:  # nothing that late: start at the end
            consumer.seek(tp, (await consumer.end_offsets([tp]))[tp])
        else:
            consumer.seek(tp, at.offset)


# Hosts' clocks differ: start a minute early and let the dlq.timestamp filter decide.
_CLOCK_SLACK_MS = 60_000


async def _read_partition(
    consumer: AIOKafkaConsumer, tp: TopicPartition, end: int, every: Iterable[TopicPartition]
) -> AsyncIterator[DeadLetter]:
    others = [other for other in every if other != tp]
    consumer.pause(*others)  # one partition at a time, in offset order
    consumer.resume(tp)
    try:
        while await consumer.position(tp) < end:
            fetched = await consumer.getmany(tp, timeout_ms=1000, max_records=FETCH_RECORDS)
            for raw in fetched.get(tp, ()):
                if raw.offset >= end:
                    return
                if (letter := dead_letter(raw)) is not None:
                    yield letter
    finally:
        consumer.resume(*others)
