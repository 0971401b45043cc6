"""Replaying dead letters: each one's original record (key, value, original headers) published
again to its original topic and partition, where its consumer group applies it like any other.

Consumers are idempotent on the activity id (docs/architecture.md §9), so replaying a letter
that was applied since, or replaying one twice, changes nothing. A letter refused again (the
cause was not fixed) goes back to the DLQ as a new letter with fresh ``dlq.*`` headers.

Every replay is audited (:func:`audit_replay`): a log line, and a ``dlq.replay`` entry in the
audit log of each tenant whose letters it replayed (docs/architecture.md §14).
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from canopy_common.audit_events import (
    AuditEvent,
    OutsideAction,
    audit_event,
    operator_actor,
    publish_audit_events,
)
from canopy_common.dead_letters.letters import DeadLetter, Filters, LetterId
from canopy_common.kafka_producer import Delivery, Producer
from canopy_common.principal import TENANT_ID_PATTERN

log = structlog.get_logger(__name__)

_TENANT_ID = re.compile(TENANT_ID_PATTERN)
# An entry lists at most this many letters of its tenant (with the full counts): enough to
# find them again, small enough for one audit entry however big the replay.
AUDITED_LETTERS_MAX = 1000
AUDITED_FAILURES_MAX = 100
_AUDITED_ERROR_CHARS = 200


@dataclass
class ReplayReport:
    """What one replay did: who ran it, with which filters, what went where, what failed."""

    operator: str
    filters: Filters
    started_at: datetime
    replayed: list[tuple[LetterId, Delivery]] = field(default_factory=list)
    failed: list[tuple[LetterId, str]] = field(default_factory=list)
    # Every letter tried: its tenant (None when neither its value nor its key names one) and
    # its original topic, for the audit entries.
    letters: dict[LetterId, tuple[str | None, str]] = field(default_factory=dict)
    # Why the audit entries were not published (the replay itself went ahead).
    unaudited: str | None = None

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
            "tenants": sorted({t for t, _ in self.letters.values() if t is not None}),
            "without_tenant": sorted(str(i) for i, (t, _) in self.letters.items() if t is None),
        }

    def audit_events(self) -> list[AuditEvent]:
        """One ``dlq.replay`` entry per tenant whose letters this replay tried: the operator,
        the original topics written to, the filters, that tenant's letters and failures."""
        replayed: dict[str, list[str]] = {}
        failed: dict[str, dict[str, str]] = {}
        topics: dict[str, set[str]] = {}
        for letter, _ in self.replayed:
            if (tenant := self.letters[letter][0]) is not None:
                replayed.setdefault(tenant, []).append(str(letter))
        for letter, error in self.failed:
            if (tenant := self.letters[letter][0]) is not None:
                failed.setdefault(tenant, {})[str(letter)] = error[:_AUDITED_ERROR_CHARS]
        for tenant, topic in self.letters.values():
            if tenant is not None:
                topics.setdefault(tenant, set()).add(topic)
        return [
            audit_event(
                tenant=tenant,
                actor=operator_actor(self.operator),
                action=OutsideAction.DLQ_REPLAY,
                target=", ".join(sorted(topics[tenant])),
                at=self.started_at,
                details={
                    "filters": self.filters.describe(),
                    "replayed": len(replayed.get(tenant, [])),
                    "failed": len(failed.get(tenant, {})),
                    "letters": replayed.get(tenant, [])[:AUDITED_LETTERS_MAX],
                    "failures": dict(list(failed.get(tenant, {}).items())[:AUDITED_FAILURES_MAX]),
                },
            )
            for tenant in sorted(topics)
        ]


def tenant_of(letter: DeadLetter) -> str | None:
    """The tenant a dead letter belongs to: the ``tenant`` its JSON value names (every
    Canopy record carries one), else the first part of a ``tenant:...`` key; None when
    neither is a tenant id (e.g. bytes that are no JSON, under a free upstream key)."""
    try:
        value = orjson.loads(letter.value) if letter.value is not None else None
    except orjson.JSONDecodeError:
        value = None
    named = value.get("tenant") if isinstance(value, dict) else None
    if isinstance(named, str) and _TENANT_ID.fullmatch(named):
        return named
    key = letter.key.decode("utf-8", "replace") if letter.key is not None else ""
    prefix, sep, _ = key.partition(":")
    return prefix if sep and _TENANT_ID.fullmatch(prefix) else None


async def replay(
    producer: Producer,
    letters: Sequence[DeadLetter],
    filters: Filters,
    *,
    audit_topic: str,
    on_each: Callable[[DeadLetter], None] = lambda _: None,
) -> ReplayReport:
    """Publish every letter's original record to its original topic and partition (by key
    when that partition no longer exists), in order, each acknowledged before the next;
    ``on_each`` is called after each one (a progress bar). A letter that cannot be published
    is reported, and the rest go on. The replay is then audited (:func:`audit_replay`, its
    entries published on ``audit_topic``)."""
    report = ReplayReport(operator=_operator(), filters=filters, started_at=datetime.now(UTC))
    partitions: dict[str, list[int]] = {}
    for letter in letters:
        topic = letter.why.original_topic
        report.letters[letter.id] = (tenant_of(letter), topic)
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
    try:
        await audit_replay(report, producer=producer, topic=audit_topic)
    except Exception as exc:
        # The records are out already: say loudly that the audit log lacks them.
        report.unaudited = repr(exc)
        log.error("dead letter replay not audited", error=repr(exc), **report.summary())
    return report


async def audit_replay(report: ReplayReport, *, producer: Producer, topic: str) -> None:
    """THE place a replay is audited, so every replay path — the command and anything built
    on :func:`replay` — is audited alike: one structured log line (who, which filters, which
    letters, what failed, which tenants), and a ``dlq.replay`` entry per tenant concerned
    published on ``topic`` for ingestion to record (docs/architecture.md §14). Raises when
    the broker does not take an entry."""
    log.info("dead letters replayed", **report.summary())
    await publish_audit_events(producer, topic, report.audit_events())


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"
