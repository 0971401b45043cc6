"""What the notification service consumes, and the handler for each topic.

``canopy.activities.v1``: every activity, applied once (see :mod:`canopy_notify.handlers`);
live events and unread counts follow once the transaction commits.
``canopy.deliveries.v1``: outside deliveries, sent by email (see :mod:`canopy_notify.mailer`).
``canopy.question-experts.v1``: the likely answerers of each new question, from analytics,
kept until the question is routed (docs/architecture.md §17).
"""

from __future__ import annotations

from collections.abc import Sequence

from canopy_common.after_commit import AfterCommit
from canopy_common.consuming import BatchHandler, ConsumedRecord, Handler
from canopy_common.db import Connection
from canopy_common.events import StrictActivity
from canopy_common.inbox import activity_batch_handler, activity_handler
from canopy_common.members import person_changed
from canopy_common.question_experts import decode_question_experts
from canopy_common.service import ConsumerSpec
from canopy_common.settings import ServiceSettings
from canopy_common.vocabulary.canonical import decode_canonical
from canopy_notify.adapters import routing
from canopy_notify.bootstrap import Collaborators
from canopy_notify.export_section import EXPORT_CONSUMER
from canopy_notify.handlers import ChangedNotices, apply_activity
from canopy_notify.mailer import deliveries_handler


def _activity_topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_activities]


def _deliveries_topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_deliveries]


def _question_experts_topics(settings: ServiceSettings) -> list[str]:
    return [settings.kafka.topic_question_experts]


def _question_experts_handler(service: Collaborators) -> Handler:
    """Store each question's ranking (idempotent: a redelivery or an older ranking changes
    nothing); a record that is none is poison, dead-lettered with the reason."""
    pool = service.runtime.pool

    async def handle(record: ConsumedRecord) -> None:
        ranking = decode_question_experts(record.key, record.value)
        async with pool.acquire() as conn, conn.transaction():
            await routing.store_experts(conn, ranking)

    return handle


def _handlers(service: Collaborators) -> tuple[Handler, BatchHandler]:
    pool, notifier, members = service.runtime.pool, service.notifier, service.runtime.members
    changed = ChangedNotices()
    after = AfterCommit()

    async def effect(conn: Connection, activity: StrictActivity) -> None:
        await apply_activity(conn, activity, notifier=notifier, changed=changed)
        if (person := person_changed(activity)) is not None:  # who may act changed
            after.defer(members.forgetting(*person))

    async def publish(conn: Connection) -> None:
        await changed.flush(conn, notifier.live, actors=notifier.settings.group_actors)

    def attempt() -> None:
        # Whatever a failed attempt collected was rolled back; live events follow the commit.
        changed.clear()
        after.discard()
        after.defer(publish)

    # Only canonical activities: one notify could only ignore goes to the DLQ with its reason.
    single = activity_handler(pool, effect, after=after, decode=decode_canonical)
    batch = activity_batch_handler(pool, effect, after=after, decode=decode_canonical)

    async def handle(record: ConsumedRecord) -> None:
        attempt()
        await single(record)

    async def handle_batch(records: Sequence[ConsumedRecord]) -> None:
        attempt()
        await batch(records)

    return handle, handle_batch


CONSUMERS: list[ConsumerSpec[Collaborators]] = [
    ConsumerSpec(
        name="activities",
        topics=_activity_topics,
        handler=lambda service: _handlers(service)[0],
        batch_handler=lambda service: _handlers(service)[1],
    ),
    ConsumerSpec(
        name="deliveries",
        topics=_deliveries_topics,
        handler=lambda service: deliveries_handler(
            pool=service.runtime.pool, settings=service.settings
        ),
        group_suffix="deliveries",
    ),
    ConsumerSpec(
        name="question-experts",
        topics=_question_experts_topics,
        handler=_question_experts_handler,
        group_suffix="question-experts",
    ),
    EXPORT_CONSUMER,  # canopy.exports.v1: its section of a person's data export
]
