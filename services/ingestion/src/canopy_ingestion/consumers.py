"""What the ingestion service consumes: upstream AS2 events on ``canopy.upstream.v1``, the
audit entries of actions taken elsewhere on ``canopy.audit.v1`` (docs/architecture.md §14),
and the other services' sections of data exports on ``canopy.export-parts.v1`` (§16)."""

from __future__ import annotations

from canopy_common.after_commit import AfterCommit
from canopy_common.consuming import BatchHandler, Handler
from canopy_common.db import Connection
from canopy_common.events import StrictActivity
from canopy_common.inbox import activity_handler
from canopy_common.members import person_changed
from canopy_common.service import ConsumerSpec, Runtime
from canopy_common.settings import ServiceSettings
from canopy_ingestion.audit_entries import audit_entry_handler
from canopy_ingestion.export_parts import export_part_handler
from canopy_ingestion.settings import Settings
from canopy_ingestion.upstream import apply_one
from canopy_ingestion.upstream_batch import upstream_batch_handler


def _topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_upstream]


def _handler(runtime: Runtime[Settings]) -> Handler:
    # Strict AS2, applied once per upstream id in the same transaction as its outbox rows; the
    # offset is committed after that commit. Invalid or unsupported records go to the DLQ.
    after = AfterCommit()

    async def effect(conn: Connection, activity: StrictActivity) -> None:
        await apply_one(conn, activity)
        if (person := person_changed(activity)) is not None:  # an HR joiner, change, leaver
            after.defer(runtime.members.forgetting(*person))

    return activity_handler(runtime.pool, effect, after=after)


def _batch_handler(runtime: Runtime[Settings]) -> BatchHandler:
    # Every partition's records of a fetch in one transaction, a few statements in all; the
    # poison ones come back to the consumer for the DLQ. Any other failure sends the consumer
    # back to record by record.
    return upstream_batch_handler(runtime.pool, runtime.members)


CONSUMERS: list[ConsumerSpec[Runtime[Settings]]] = [
    ConsumerSpec(
        name="upstream",
        topics=_topics,
        handler=_handler,
        batch_handler=_batch_handler,
        whole_fetch=True,
    ),
    # A group of its own: the busy upstream consumer never rebalances it, nor it them.
    ConsumerSpec(
        name="audit",
        topics=lambda settings: [settings.kafka.topic_audit],
        handler=lambda runtime: audit_entry_handler(runtime.pool),
        group_suffix="audit",
    ),
    ConsumerSpec(
        name="export-parts",
        topics=lambda settings: [settings.kafka.topic_export_parts],
        handler=lambda runtime: export_part_handler(runtime.pool),
        group_suffix="exports",
    ),
]
