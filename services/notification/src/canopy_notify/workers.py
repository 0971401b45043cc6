"""The notification service's timed work: task due reminders that come due, questions still
unanswered after the tenant's delay (routed to likely answerers, §17), and outside deliveries
whose grace period or digest period has ended.

Each function takes ``now`` so tests control the clock; :class:`Scheduler` calls them with the
real time every ``reminder_poll_s``. Claims use ``FOR UPDATE SKIP LOCKED``: any number of
workers share the work and each reminder fires once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from canopy_common.after_commit import committing
from canopy_common.db import Connection
from canopy_common.loops import BackgroundLoop
from canopy_notify.adapters import deliveries, notifications, projections, reminders, routing
from canopy_notify.domain.model import Candidate, NoticeType, Occurrence
from canopy_notify.domain.reminders import lead_text
from canopy_notify.domain.routing import Outcome, candidates_of, chosen, retry_at
from canopy_notify.handlers import (
    ChangedNotices,
    Notifier,
    decide_for,
    record_decisions,
    tell,
    view,
)

log = structlog.get_logger(__name__)

Send = Callable[[str, dict[str, Any]], Awaitable[Any]]  # (key, delivery) onto the topic
BATCH = 200


async def fire_reminders(pool: asyncpg.Pool, now: datetime, *, notifier: Notifier) -> int:
    """Tell the assignees of every task whose reminder is due by ``now``; returns how many
    reminders fired."""
    changed = ChangedNotices()
    async with committing(pool) as (conn, after):
        # Live events and unread counts once the notifications are committed.
        after.defer(
            lambda c: changed.flush(c, notifier.live, actors=notifier.settings.group_actors)
        )
        due = await reminders.claim_due(conn, now, BATCH)
        for reminder in due:
            occ = Occurrence(
                tenant_id=reminder.tenant_id,
                activity_id=f"reminder:{reminder.object_id}:{reminder.lead_s}:"
                f"{reminder.due_at.isoformat()}",
                activity_type="Reminder",
                actor_id="",
                published=now,
                object_id=reminder.object_id,
                summary={**reminder.summary, "due_in": lead_text(reminder.lead_s)},
            )
            picked = [Candidate(a, NoticeType.TASK_DUE) for a in reminder.assignees]
            await tell(conn, occ, picked, notifier=notifier, changed=changed)
            notifier.metrics.reminders.labels("fired").inc()
    return len(due)


async def route_questions(pool: asyncpg.Pool, now: datetime, *, notifier: Notifier) -> int:
    """Route every question due by ``now`` (docs/architecture.md §17): answered meanwhile,
    nobody; else up to three of its likely answerers who pass the pipeline are told, each
    with why; candidates not arrived yet, looked for again a minute later (given up after
    ten tries). Returns how many questions were decided or re-armed."""
    changed = ChangedNotices()
    counted = notifier.metrics.routed_questions
    async with committing(pool) as (conn, after):
        after.defer(
            lambda c: changed.flush(c, notifier.live, actors=notifier.settings.group_actors)
        )
        due = await routing.claim_due(conn, now, BATCH)
        for question in due:
            outcome = await _route(conn, question, now, notifier=notifier, changed=changed)
            counted.labels(outcome.value).inc()
    return len(due)


async def _route(
    conn: Connection,
    question: routing.DueQuestion,
    now: datetime,
    *,
    notifier: Notifier,
    changed: ChangedNotices,
) -> Outcome:
    """Decide one due question (or re-arm it); what became of it."""
    if question.answered:
        await routing.decide(conn, question, Outcome.ANSWERED, now)
        return Outcome.ANSWERED
    if question.experts is None:
        if (again := retry_at(now, question.attempts)) is not None:
            await routing.rearm(conn, question, again)
            return Outcome.RETRIED
        log.warning(
            "question routing gave up: its likely answerers never came",
            tenant=question.tenant_id,
            question=question.question_id,
            attempts=question.attempts,
        )
        await routing.decide(conn, question, Outcome.NO_CANDIDATES, now)
        return Outcome.NO_CANDIDATES
    occ = Occurrence(
        tenant_id=question.tenant_id,
        activity_id=f"route:{question.question_id}",
        activity_type="Route",
        actor_id=question.asker_id,  # never told; a block or a mute of them holds
        published=now,
        item=question.item,
        kind="question",
        object_id=question.question_id,
        summary=question.summary,
        thread_id=question.thread_id,
        group_id=question.group_id,
    )
    decisions = await decide_for(conn, occ, candidates_of(question.experts))
    routed = chosen(decisions, question.experts)
    await record_decisions(
        conn,
        occ,
        # The suppressed are counted by reason; told beyond the first three: not chosen.
        [*(d for d in decisions if not d.told), *(r.decision for r in routed)],
        notifier=notifier,
        changed=changed,
        shown={
            r.decision.candidate.recipient: {**question.summary, "reason": r.reason} for r in routed
        },
    )
    outcome = Outcome.ROUTED if routed else Outcome.NOBODY
    await routing.decide(conn, question, outcome, now)
    return outcome


async def dispatch_deliveries(
    pool: asyncpg.Pool, now: datetime, *, notifier: Notifier, send: Send
) -> int:
    """Publish the outside deliveries due by ``now`` on the deliveries topic: one record per
    notification, or one per digest. Skipped: what was read meanwhile, anything whose
    recipient was deactivated meanwhile (a leaver gets no e-mail, digests included), and
    (outside digests) anything whose recipient was on the live stream since it happened.
    Returns records sent."""
    settings, metrics, live = notifier.settings, notifier.metrics, notifier.live
    sent = 0
    async with pool.acquire() as conn, conn.transaction():
        due = await deliveries.claim_due(conn, now, BATCH)
        for (tenant, recipient, channel, digest), rows in deliveries.group_pending(due).items():
            if not rows[0].active:
                await deliveries.mark(conn, [r.id for r in rows], "inactive")
                metrics.delivered.labels(channel, "inactive").inc(len(rows))
                continue
            unread = [r for r in rows if not r.read]
            if len(unread) < len(rows):
                await deliveries.mark(conn, [r.id for r in rows if r.read], "read")
                metrics.delivered.labels(channel, "read").inc(len(rows) - len(unread))
            if not unread:
                continue
            is_digest = digest is not None and not digest.startswith("single:")
            first = min(r.created_at for r in unread).timestamp()
            if not is_digest and await live.seen_since(tenant, recipient, first):
                await deliveries.mark(conn, [r.id for r in unread], "online")
                metrics.delivered.labels(channel, "online").inc(len(unread))
                continue
            contact = (await projections.contacts(conn, tenant, [recipient])).get(recipient, {})
            items = await notifications.by_ids(
                conn, tenant, [r.notification_id for r in unread], actors=settings.group_actors
            )
            ids = sorted(r.id for r in unread)
            record = {
                "id": f"dl:{tenant}:{ids[0]}" + (f"-{ids[-1]}" if len(ids) > 1 else ""),
                "tenant": tenant,
                "recipient": recipient,
                "channel": channel,
                "to": {"name": contact.get("name"), "email": contact.get("email")},
                "digest": digest if is_digest else None,
                "items": [_item(view(row), settings.public_url) for row in items],
                "created_at": now.isoformat(),
            }
            await send(f"{tenant}:{recipient}", record)
            await deliveries.mark(conn, ids, "sent")
            metrics.delivered.labels(channel, "digest" if is_digest else "sent").inc(len(ids))
            sent += 1
    return sent


def _item(shown: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "id": int(shown["id"]),
        "type": shown["type"],
        "text": shown["text"],
        "url": f"{base_url.rstrip('/')}/notifications/{shown['id']}",
        "created_at": shown["created_at"],
        "urgent": shown["urgent"],
    }


class Scheduler(BackgroundLoop):
    """Fires due reminders, routes due questions and dispatches due deliveries, every
    ``reminder_poll_s``."""

    task_name = "notify-scheduler"

    def __init__(self, pool: asyncpg.Pool, *, notifier: Notifier, send: Send) -> None:
        super().__init__()
        self._pool = pool
        self._notifier = notifier
        self._send = send
        self._healthy = True

    @property
    def ready(self) -> bool:
        """Running, and its last round went through."""
        return self.running and self._healthy

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                now = datetime.now(UTC)
                await fire_reminders(self._pool, now, notifier=self._notifier)
                await route_questions(self._pool, now, notifier=self._notifier)
                await dispatch_deliveries(self._pool, now, notifier=self._notifier, send=self._send)
                self._healthy = True
            except Exception:  # a dependency down: log, wait, try again
                self._healthy = False
                log.exception("scheduler round failed")
            await self._sleep(self._notifier.settings.reminder_poll_s)
