"""Replaying dead letters: each one's original record (key, value, original headers) published
again to its original topic and partition, where its consumer group applies it like any other.

Consumers are idempotent on the activity id (docs/architecture.md §9), so replaying a letter
that was applied since, or replaying one twice, changes nothing. A letter refused again (the
cause was not fixed) goes back to the DLQ as a new letter with fresh ``dlq.*`` headers.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from canopy_common.dead_letters.letters import DeadLetter, Filters, LetterId
from canopy_common.kafka_producer import Delivery, Producer

log = structlog.get_logger(__name__)


@dataclass
class ReplayReport:
    """What one replay did: who ran it, with which filters, what went where, what failed."""

    operator: str
    filters: Filters
    started_at: datetime
    replayed: list[tuple[LetterId, Delivery]] = field(default_factory=list)
    failed: list[tuple[LetterId, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The report as plain values (for the log line and the audit record)."""
        return {
            "operator": self.operator,
            "filters": self.filters.describe(),
            "started_at": self.started_at.isoformat(),
            "replayed": len(self.replayed),
            "failed": len(self.failed),
            "letters": [str(letter) for letter, _ in self.replayed],
            "failures": {str(letter): error for letter, error in self.failed},
        }


async def replay(
    producer: Producer,
    letters: Sequence[DeadLetter],
    filters: Filters,
    *,
    on_each: Callable[[DeadLetter], None] = lambda _: None,
) -> ReplayReport:
    """Publish every letter's original record to its original topic and partition (by key
    when that partition no longer exists), in order, each acknowledged before the next;
    ``on_each`` is called after each one (a progress bar). A letter that cannot be published
    is reported, and the rest go on. The replay is then audited (:func:`audit_replay`)."""
    report = ReplayReport(operator=_operator(), filters=filters, started_at=datetime.now(UTC))
    partitions: dict[str, list[int]] = {}
    for letter in letters:
        topic = letter.why.original_topic
        try:
            if topic not in partitions:
                partitions[topic] = await producer.partitions_for(topic)
            partition = letter.why.original_partition
            sent = await producer.send(
                topic,
                letter.value,
                key=letter.key,
                headers=letter.original_headers(),
                partition=partition if partition in partitions[topic] else None,
            )
        except Exception as exc:
            report.failed.append((letter.id, repr(exc)))
            log.error("dead letter not replayed", letter=str(letter.id), error=repr(exc))
        else:
            report.replayed.append((letter.id, sent))
        on_each(letter)
    await audit_replay(report)
    return report


async def audit_replay(report: ReplayReport) -> None:
    """THE place a replay is audited: one structured log line today (who, which filters,
    which letters, what failed). When Canopy's audit log exists, record the replay here
    too, so every replay path — this command and anything built on :func:`replay` — is
    audited alike."""
    log.info("dead letters replayed", **report.summary())


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"
