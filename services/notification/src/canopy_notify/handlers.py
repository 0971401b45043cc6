"""The notification write path (docs/architecture.md §6): one activity in, projections updated,
rules
applied, the pipeline run, notifications stored and scheduled for outside channels — all in
the consumer's transaction. What must happen after the commit (live events, unread counts) is
collected in :class:`ChangedNotices`, flushed as the transaction's
:class:`~canopy_common.after_commit.AfterCommit` work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from canopy_common.activities import activity_type, as_object, membership_of, user_id
from canopy_common.db import Connection
from canopy_common.events import AS2Object, StrictActivity, ref_id
from canopy_notify.adapters import (
    deliveries,
    notifications,
    preferences,
    projections,
    reminders,
    routing,
)
from canopy_notify.adapters.live import Live
from canopy_notify.adapters.notifications import NewNotice
from canopy_notify.domain.model import Candidate, Facts, NoticeType, Occurrence
from canopy_notify.domain.occurrences import occurrence_of
from canopy_notify.domain.pipeline import Decision, Recipient, decide, group_key
from canopy_notify.domain.routing import due_at
from canopy_notify.domain.rules import (
    ASSIGNABLE,
    candidates,
    needs_admins,
    needs_members,
    needs_thread,
)
from canopy_notify.domain.texts import describe
from canopy_notify.metrics import NotifyMetrics
from canopy_notify.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Notifier:
    """The collaborators of the write path."""

    settings: Settings
    metrics: NotifyMetrics
    live: Live


@dataclass
class ChangedNotices:
    """Notifications changed in the transaction: streamed and recounted once it commits."""

    changed: dict[tuple[str, str], set[int]] = field(default_factory=dict)  # (tenant, user)

    def clear(self) -> None:
        self.changed.clear()

    def add(self, tenant: str, user: str, notification_id: int) -> None:
        self.changed.setdefault((tenant, user), set()).add(notification_id)

    async def flush(self, conn: Connection, live: Live, *, actors: int) -> None:
        changed, self.changed = self.changed, {}
        for (tenant, user), ids in changed.items():
            await live.forget_unread(tenant, {user})
            for row in await notifications.by_ids(conn, tenant, sorted(ids), actors=actors):
                await live.publish(tenant, user, view(row))


def view(row: dict[str, object]) -> dict[str, object]:
    """A notification as the API and the live stream show it."""
    actors = row.get("actors") or []
    assert isinstance(actors, list)
    obj = row.get("object")
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "category": row["category"],
        "text": describe(
            str(row["type"]),
            actors,
            int(str(row["actor_count"])),
            obj if isinstance(obj, dict) else None,
        ),
        "actors": actors,
        "actor_count": row["actor_count"],
        "object": obj,
        "group_id": row.get("group_id"),
        # What a mute of the thread names (PUT /v1/notification-mutes/thread/{thread_id}).
        "thread_id": row.get("thread_id"),
        "urgent": row["urgent"],
        "read": row["read_at"] is not None,
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "event_id": str(row["seq"]),
    }


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


# --- entry point ------------------------------------------------------------------------------


async def apply_activity(
    conn: Connection, activity: StrictActivity, *, notifier: Notifier, changed: ChangedNotices
) -> None:
    """Apply one (first-delivered) activity."""
    await _project(conn, activity)
    occ = occurrence_of(activity)
    if occ is None:
        return
    known: frozenset[str] = frozenset()
    if occ.kind in ASSIGNABLE and occ.object_id is not None:
        leads = await preferences.reminder_leads(
            conn, occ.tenant_id, notifier.settings.reminder_leads_s
        )
        known = await reminders.track_task(conn, occ, leads=leads)
    facts = await _facts(conn, occ, known)
    picked = candidates(occ, facts)
    if picked:
        await tell(conn, occ, picked, notifier=notifier, changed=changed)
    await _track_question(conn, occ, notifier.settings)
    if occ.activity_type == "Create" and occ.item is not None and occ.thread_id is not None:
        await projections.add_participant(conn, occ.tenant_id, occ.thread_id, occ.item.author_id)


async def tell(
    conn: Connection,
    occ: Occurrence,
    picked: Sequence[Candidate],
    *,
    notifier: Notifier,
    changed: ChangedNotices,
) -> list[Decision]:
    """Run the candidates through the pipeline; store and schedule what is told."""
    decisions = await decide_for(conn, occ, picked)
    await record_decisions(conn, occ, decisions, notifier=notifier, changed=changed)
    return decisions


async def decide_for(
    conn: Connection, occ: Occurrence, picked: Sequence[Candidate]
) -> list[Decision]:
    """The pipeline's decision on each candidate, from the projections: a few queries
    however many candidates."""
    users = sorted({c.recipient for c in picked})
    found = await projections.readers(conn, occ.tenant_id, users, occ.item, occ.actor_id)
    resolved = await preferences.resolved_for(conn, occ.tenant_id, users)
    mutes = await preferences.active_mutes(conn, occ.tenant_id, users, occ.published)
    recipients = {
        uid: Recipient(
            reader=reader,
            prefs=resolved[uid],
            ties=ties,
            blocks_actor=blocks_actor,
            mutes=mutes.get(uid, ()),
        )
        for uid, (reader, ties, blocks_actor) in found.items()
    }
    return decide(occ, picked, recipients)


async def record_decisions(
    conn: Connection,
    occ: Occurrence,
    decisions: Sequence[Decision],
    *,
    notifier: Notifier,
    changed: ChangedNotices,
    shown: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """Count the suppressed; store the told ones' notifications and schedule their outside
    deliveries. ``shown``: what a recipient's notification shows of its object, when not
    ``occ.summary`` (e.g. with why they in particular were told)."""
    told = [d for d in decisions if d.told]
    digests = await preferences.digest_of(
        conn, occ.tenant_id, [d.candidate.recipient for d in told]
    )
    settings, metrics = notifier.settings, notifier.metrics
    for decision in decisions:
        if decision.suppressed is not None:
            metrics.suppressed.labels(decision.suppressed.value).inc()
            continue
        candidate = decision.candidate
        shown_object = (shown or {}).get(candidate.recipient, occ.summary)
        recorded = await notifications.record(
            conn,
            NewNotice(
                tenant_id=occ.tenant_id,
                recipient=candidate.recipient,
                type=candidate.type.value,
                category=candidate.category.value,
                group_key=decision.group_key,
                activity_id=occ.activity_id,
                actor_id=occ.actor_id or None,
                at=occ.published,
                object_id=occ.object_id,
                object=shown_object or None,
                group_id=occ.group_id,
                thread_id=occ.thread_id,
                urgent=decision.urgent,
            ),
            window_s=settings.group_window_s,
        )
        metrics.created.labels(candidate.type.value, "new" if recorded.created else "grouped").inc()
        changed.add(occ.tenant_id, candidate.recipient, recorded.id)
        if recorded.created:
            await deliveries.schedule(
                conn,
                occ.tenant_id,
                candidate.recipient,
                recorded.id,
                channels=decision.channels,
                digest=digests.get(candidate.recipient),
                urgent=decision.urgent,
                grace_s=settings.delivery_grace_s,
            )


async def _facts(conn: Connection, occ: Occurrence, known: frozenset[str]) -> Facts:
    tenant = occ.tenant_id
    return Facts(
        thread_participants=(
            await projections.thread_participants(conn, tenant, occ.thread_id)
            if needs_thread(occ) and occ.thread_id is not None
            else frozenset()
        ),
        group_members=(
            await projections.group_members(conn, tenant, occ.group_id)
            if needs_members(occ) and occ.group_id is not None
            else frozenset()
        ),
        moderators=(
            await projections.moderators(conn, tenant)
            if occ.activity_type == "Flag"
            else frozenset()
        ),
        group_admins=(
            await projections.group_admins(conn, tenant, occ.group_id)
            if needs_admins(occ) and occ.group_id is not None
            else frozenset()
        ),
        known_assignees=known,
    )


async def _track_question(conn: Connection, occ: Occurrence, settings: Settings) -> None:
    """Questions to route to likely answerers when unanswered (§17): armed when asked, kept
    current when edited; answers noted."""
    item = occ.item
    if item is None:
        return
    if occ.kind == "question" and occ.parent_id is None:
        if occ.activity_type == "Create":
            delay = await preferences.question_routing_delay(
                conn, occ.tenant_id, settings.question_routing_delay_s
            )
            await routing.arm(conn, occ, item, due_at(occ.published, delay))
        elif occ.activity_type == "Update":
            await routing.refresh(conn, occ, item)
    elif occ.kind == "answer" and occ.activity_type == "Create" and occ.parent_id is not None:
        await routing.add_answer(conn, occ.tenant_id, occ.parent_id, item.object_id)


# --- projections ------------------------------------------------------------------------------


async def _project(conn: Connection, activity: StrictActivity) -> None:
    tenant = activity.tenant
    kind = activity_type(activity)
    obj = as_object(activity.object)
    obj_type = activity_type(obj) if obj is not None else None
    actor = user_id(tenant, activity.actor)
    match kind:
        case "Create" | "Update" if obj_type == "Person" and obj is not None:
            await projections.upsert_person(conn, tenant, obj)
        case "Create" | "Update" if obj_type == "Group" and obj is not None:
            await projections.upsert_group(conn, tenant, obj)  # created, renamed, archived
        case "Join" | "Add" | "Leave" | "Remove":
            # None for a request to join: nobody is a member until an admin adds them.
            if (change := membership_of(activity)) is not None:
                await projections.apply_membership(conn, tenant, change)
        case "Update" if obj_type == "Relationship":
            await projections.change_role(conn, activity)
        case "Follow" | "Block" if actor is not None and obj_type == "Person" and obj is not None:
            other = user_id(tenant, obj.id)
            if other is not None:
                table = "follows" if kind == "Follow" else "blocks"
                await projections.set_relation(conn, table, tenant, actor, other, on=True)
        case "Undo" if actor is not None and obj is not None:
            await _undo(conn, tenant, actor, obj)
        case "Delete":
            await _delete(conn, activity)


async def _undo(conn: Connection, tenant: str, actor: str, undone: AS2Object) -> None:
    kind = activity_type(undone)
    target = as_object(undone.object)
    if kind in ("Follow", "Block") and target is not None and activity_type(target) == "Person":
        other = user_id(tenant, target.id)
        if other is not None:
            table = "follows" if kind == "Follow" else "blocks"
            await projections.set_relation(conn, table, tenant, actor, other, on=False)
    elif kind in ("Like", "Announce"):
        post_id = ref_id(undone.object)
        type_ = NoticeType.REACTION if kind == "Like" else NoticeType.SHARE
        stand_in = Occurrence(tenant, "", kind, actor, datetime.now(UTC), object_id=post_id)
        await notifications.remove_actor(conn, tenant, group_key(type_, stand_in), actor)


async def _delete(conn: Connection, activity: StrictActivity) -> None:
    tenant = activity.tenant
    object_id = ref_id(activity.object)
    if object_id is None:
        return
    person = user_id(tenant, object_id)
    if person is not None:
        await projections.erase_person(conn, tenant, person)
        await routing.erase_person(conn, tenant, person)
        return
    await reminders.cancel(conn, tenant, object_id)
    await routing.deleted(conn, tenant, object_id)
