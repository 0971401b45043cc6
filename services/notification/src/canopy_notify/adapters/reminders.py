"""Task due reminders in Postgres (docs/architecture.md §6): armed from a task's activities, claimed
when due with ``FOR UPDATE SKIP LOCKED`` (so several workers share them and each fires once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from canopy_common.db import Connection
from canopy_notify.domain.model import Occurrence
from canopy_notify.domain.reminders import plan


@dataclass(frozen=True, slots=True)
class DueReminder:
    tenant_id: str
    object_id: str
    lead_s: int
    due_at: datetime
    assignees: tuple[str, ...]
    summary: dict[str, object]


async def track_task(conn: Connection, occ: Occurrence, *, leads: Sequence[int]) -> frozenset[str]:
    """Remember a task's assignees and due time; arm its reminders (re-arm when the due time
    moved, cancel when it is done). Returns the assignees known before this activity."""
    tenant, object_id = occ.tenant_id, occ.object_id
    before = await conn.fetchrow(
        "SELECT assignees, due_at FROM tasks WHERE tenant_id = $1 AND object_id = $2 FOR UPDATE",
        tenant,
        object_id,
    )
    await conn.execute(
        "INSERT INTO tasks (tenant_id, object_id, assignees, due_at, done, summary) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, object_id) DO UPDATE SET "
        "assignees = EXCLUDED.assignees, due_at = EXCLUDED.due_at, done = EXCLUDED.done, "
        "summary = EXCLUDED.summary",
        tenant,
        object_id,
        sorted(occ.assignees),
        occ.due_at,
        occ.done,
        occ.summary,
    )
    # Reminders for any other due time (or for a task done) will not fire.
    await conn.execute(
        "UPDATE reminders SET cancelled = true WHERE tenant_id = $1 AND object_id = $2 "
        "AND fired_at IS NULL AND NOT cancelled AND ($3::timestamptz IS NULL OR $4 "
        "OR due_at <> $3)",
        tenant,
        object_id,
        occ.due_at,
        occ.done,
    )
    if occ.due_at is not None and not occ.done and occ.assignees:
        for reminder in plan(occ.due_at, leads, occ.published):
            await conn.execute(
                "INSERT INTO reminders (tenant_id, object_id, lead_s, due_at, fire_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, object_id, lead_s, due_at) "
                "DO UPDATE SET cancelled = false WHERE reminders.fired_at IS NULL",
                tenant,
                object_id,
                reminder.lead_s,
                reminder.due_at,
                reminder.fire_at,
            )
    return frozenset(before["assignees"]) if before is not None else frozenset()


async def cancel(conn: Connection, tenant: str, object_id: str) -> int:
    """A deleted task: nothing more fires for it."""
    await conn.execute(
        "UPDATE tasks SET done = true WHERE tenant_id = $1 AND object_id = $2", tenant, object_id
    )
    status = await conn.execute(
        "UPDATE reminders SET cancelled = true WHERE tenant_id = $1 AND object_id = $2 "
        "AND fired_at IS NULL AND NOT cancelled",
        tenant,
        object_id,
    )
    return int(status.split()[-1])


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[DueReminder]:
    """Reminders due by ``now``, locked for this transaction and marked fired."""
    rows = await conn.fetch(
        "WITH due AS (SELECT r.tenant_id, r.object_id, r.lead_s, r.due_at FROM reminders r "
        "WHERE r.fire_at <= $1 AND r.fired_at IS NULL AND NOT r.cancelled "
        "ORDER BY r.fire_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "UPDATE reminders r SET fired_at = $1 FROM due, tasks t "
        "WHERE r.tenant_id = due.tenant_id AND r.object_id = due.object_id "
        "AND r.lead_s = due.lead_s AND r.due_at = due.due_at "
        "AND t.tenant_id = r.tenant_id AND t.object_id = r.object_id AND NOT t.done "
        "RETURNING r.tenant_id, r.object_id, r.lead_s, r.due_at, t.assignees, t.summary",
        now,
        limit,
    )
    return [
        DueReminder(
            r["tenant_id"],
            r["object_id"],
            r["lead_s"],
            r["due_at"],
            tuple(r["assignees"] or ()),
            dict(r["summary"] or {}),
        )
        for r in rows
    ]
