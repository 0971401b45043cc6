"""Dead-lettering poison: the original record goes to the DLQ topic with headers saying why
(docs/architecture.md §4), and the partition moves on.

One step for every consumer: the aiokafka :class:`~canopy_common.consuming.Consumer` and the
faust agents of analytics both send through :class:`DeadLetters`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol, Self

import structlog

from canopy_common.consuming.records import ConsumedRecord, Handler, Rejected, where
from canopy_common.kafka_producer import Producer
from canopy_common.transient import TransientError, is_transient

log = structlog.get_logger(__name__)

# The DLQ keeps the error message short: headers travel with every fetch of the record.
DLQ_ERROR_MESSAGE_MAX_BYTES = 1024
DLQ_HEADER_PREFIX = "dlq."


class Fetched(Protocol):
    """What the DLQ needs of a fetched record, whichever client fetched it."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes: ...
    def header_pairs(self) -> Iterable[tuple[str, bytes]]: ...


class DeadLetters:
    """Sends poison records of consumer group ``group`` to the ``topic`` DLQ through
    ``producer`` (started, and outliving this step)."""

    def __init__(self, producer: Producer, *, topic: str, group: str) -> None:
        self._producer = producer
        self._topic = topic
        self._group = group

    async def __call__(
        self, record: Fetched, error: Exception, *, null_value: bool = False
    ) -> None:
        """Send ``record`` (its value, or a null one when it was fetched null) with the headers
        of :func:`dead_letter_headers`.

        Raises :class:`TransientError` when the DLQ cannot be reached: the record must not be
        committed before the DLQ has it, so the caller retries (handlers are idempotent).
        """
        headers = dead_letter_headers(
            record.header_pairs(),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=self._group,
            error=error,
        )
        try:
            await self._producer.send(
                self._topic, None if null_value else record.value, key=record.key, headers=headers
            )
        except Exception as exc:
            raise TransientError(f"cannot publish to the DLQ: {exc!r}") from exc


async def apply_or_dead_letter(
    handler: Handler,
    record: ConsumedRecord,
    dead_letters: DeadLetters,
    *,
    null_value: bool = False,
    on_failure: Callable[[], None] = lambda: None,
) -> Literal["processed", "dead_lettered"]:
    """Run ``handler`` on ``record`` once; dead-letter it when it fails as poison. Raises only
    transient failures (the caller retries them). ``on_failure`` counts every failure."""
    try:
        await handler(record)
    except Exception as exc:
        on_failure()
        if is_transient(exc):
            raise
        log.warning(
            "poison record, dead-lettering",
            **where(record),
            error_class=type(exc).__name__,
            error=str(exc),
            exc_info=exc,
        )
        # Unreachable, the DLQ raises TransientError: the handler runs again first, and
        # handlers are idempotent.
        await dead_letters(record, exc, null_value=null_value)
        return "dead_lettered"
    return "processed"


async def dead_letter_rejected(rejected: Sequence[Rejected], dead_letters: DeadLetters) -> None:
    """Dead-letter the records a batch handler refused, in partition and offset order."""
    for refused in sorted(rejected, key=lambda r: (r.record.partition, r.record.offset)):
        record, error = refused.record, refused.error
        log.warning(
            "poison record in a batch, dead-lettering",
            **where(record),
            error_class=type(error).__name__,
            error=str(error),
        )
        await dead_letters(record, error)


def dead_letter_headers(
    original: Iterable[tuple[str, bytes]] | None,
    *,
    topic: str,
    partition: int,
    offset: int,
    group: str,
    error: BaseException,
) -> list[tuple[str, bytes]]:
    """The headers of a record sent to the DLQ (docs/architecture.md §4): the original record's
    headers, minus those of an earlier trip through the DLQ, plus ``dlq.original.topic``,
    ``dlq.original.partition``, ``dlq.original.offset``, ``dlq.consumer.group``,
    ``dlq.error.class`` (qualified name), ``dlq.error.message`` (at most 1 KiB) and
    ``dlq.timestamp`` (ISO 8601, UTC)."""
    message = str(error).encode()[:DLQ_ERROR_MESSAGE_MAX_BYTES].decode(errors="ignore")
    headers = original_headers(original)  # without those of an earlier trip through the DLQ
    headers += [
        ("dlq.original.topic", topic.encode()),
        ("dlq.original.partition", str(partition).encode()),
        ("dlq.original.offset", str(offset).encode()),
        ("dlq.consumer.group", group.encode()),
        ("dlq.error.class", _qualified_name(type(error)).encode()),
        ("dlq.error.message", message.encode()),
        ("dlq.timestamp", datetime.now(UTC).isoformat().encode()),
    ]
    return headers


@dataclass(frozen=True, slots=True)
class DeadLetterHeaders:
    """The ``dlq.*`` headers of a dead letter (see :func:`dead_letter_headers`), read back."""

    original_topic: str
    original_partition: int
    original_offset: int
    group: str
    error_class: str
    error_message: str
    timestamp: datetime | None

    @classmethod
    def read(cls, headers: Iterable[tuple[str, bytes]] | None) -> Self | None:
        """The headers of a record of the DLQ; ``None`` when it lacks the original topic,
        partition or offset (then it did not come from :class:`DeadLetters`)."""
        found = {name: value.decode("utf-8", "replace") for name, value in headers or ()}
        try:
            partition = int(found["dlq.original.partition"])
            offset = int(found["dlq.original.offset"])
            topic = found["dlq.original.topic"]
        except (KeyError, ValueError):
            return None
        try:
            at: datetime | None = datetime.fromisoformat(found.get("dlq.timestamp", ""))
        except ValueError:
            at = None
        return cls(
            original_topic=topic,
            original_partition=partition,
            original_offset=offset,
            group=found.get("dlq.consumer.group", ""),
            error_class=found.get("dlq.error.class", ""),
            error_message=found.get("dlq.error.message", ""),
            timestamp=at,
        )


def original_headers(headers: Iterable[tuple[str, bytes]] | None) -> list[tuple[str, bytes]]:
    """A dead letter's headers minus the DLQ's own: those the original record carried."""
    return [
        (name, value) for name, value in headers or () if not name.startswith(DLQ_HEADER_PREFIX)
    ]


def _qualified_name(cls: type[BaseException]) -> str:
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
