"""The moderation queue and decisions in the ``ingestion`` schema (the caller owns the
transaction): flags grouped into cases, resolved together, and warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from canopy_common.db import Connection
from canopy_ingestion.adapters.posts import post_from_row
from canopy_ingestion.domain.model import Post
from canopy_ingestion.domain.moderation import CaseStatus, QueuePosition, Resolution


@dataclass(frozen=True, slots=True)
class FlagRow:
    id: str
    post_id: str
    resolved: bool


@dataclass(frozen=True, slots=True)
class Case:
    """A post's flags resolved by one decision, or its open flags: one entry of the queue."""

    id: str  # its first flag's id
    first_at: datetime
    post: dict[str, Any]
    reporters: list[dict[str, Any]]
    raised_by_policy: bool
    status: CaseStatus
    resolution: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "post": self.post,
            "reporters": self.reporters,
            "raised_by_policy": self.raised_by_policy,
            "status": self.status.value,
            "resolution": self.resolution,
        }


# One row per case: a post's open flags, or the flags one decision resolved. Reporters are the
# people's flags (the content policy's carry a rule and the author as reporter).
_CASES = """
WITH cases AS (
    SELECT f.post_id,
           f.decision_id,
           (array_agg(f.id ORDER BY f.created_at, f.id))[1] AS id,
           min(f.created_at) AS first_at,
           bool_or(f.rule IS NOT NULL) AS raised_by_policy,
           coalesce(
               jsonb_agg(
                   jsonb_build_object('user', f.reporter_id, 'reason', f.reason,
                                      'at', f.created_at)
                   ORDER BY f.created_at, f.id
               ) FILTER (WHERE f.rule IS NULL),
               '[]'::jsonb
           ) AS reporters,
           max(f.resolution) AS resolution,
           max(f.resolution_note) AS note,
           max(f.resolved_by) AS resolved_by,
           max(f.resolved_at) AS resolved_at
    FROM flags f
    WHERE f.tenant_id = $1 AND (f.resolved_at IS NULL) = $2
    GROUP BY f.post_id, f.decision_id
)
SELECT c.*, p.content, p.author_id, p.visibility, p.group_id, p.deleted_at
FROM cases c
JOIN posts p ON p.tenant_id = $1 AND p.id = c.post_id
WHERE ($3::timestamptz IS NULL OR (c.first_at, c.id) > ($3::timestamptz, $4::text))
ORDER BY c.first_at, c.id
LIMIT $5
"""


async def cases(
    conn: Connection,
    tenant: str,
    status: CaseStatus,
    *,
    after: QueuePosition | None,
    limit: int,
) -> list[Case]:
    """Up to ``limit`` cases of ``status``, oldest first (by their first flag), after ``after``."""
    rows = await conn.fetch(
        _CASES,
        tenant,
        status is CaseStatus.OPEN,
        after.at if after else None,
        after.flag_id if after else None,
        limit,
    )
    return [_case(row, status) for row in rows]


def _case(row: Any, status: CaseStatus) -> Case:
    resolution = None
    if row["resolution"] is not None:
        resolution = {
            "action": row["resolution"],
            "note": row["note"],
            "by": row["resolved_by"],
            "at": row["resolved_at"].isoformat(),
            "decision_id": row["decision_id"],
        }
    reporters = row["reporters"]
    return Case(
        id=row["id"],
        first_at=row["first_at"],
        post={
            "id": row["post_id"],
            "content": row["content"],
            "author": row["author_id"],
            "visibility": row["visibility"],
            "group_id": row["group_id"],
            "deleted": row["deleted_at"] is not None,
        },
        reporters=orjson.loads(reporters) if isinstance(reporters, str) else list(reporters),
        raised_by_policy=row["raised_by_policy"],
        status=status,
        resolution=resolution,
    )


async def flag_for_update(conn: Connection, tenant: str, flag_id: str) -> FlagRow | None:
    """One flag, locked until the transaction ends (two moderators deciding at once: the
    second sees the first's decision)."""
    row = await conn.fetchrow(
        "SELECT id, post_id, resolved_at FROM flags WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        flag_id,
    )
    if row is None:
        return None
    return FlagRow(row["id"], row["post_id"], row["resolved_at"] is not None)


@dataclass(frozen=True, slots=True)
class Resolved:
    flag_id: str
    reporter_id: str
    by_policy: bool


async def resolve_open(
    conn: Connection,
    tenant: str,
    post_id: str,
    *,
    moderator_id: str,
    resolution: Resolution,
    note: str | None,
    decision_id: str,
) -> list[Resolved]:
    """Resolve every open flag of the post; the flags resolved, oldest first."""
    rows = await conn.fetch(
        "UPDATE flags SET resolved_at = now(), resolved_by = $3, resolution = $4, "
        "resolution_note = $5, decision_id = $6 "
        "WHERE tenant_id = $1 AND post_id = $2 AND resolved_at IS NULL "
        "RETURNING id, reporter_id, rule, created_at",
        tenant,
        post_id,
        moderator_id,
        resolution.value,
        note,
        decision_id,
    )
    ordered = sorted(rows, key=lambda r: (r["created_at"], r["id"]))
    return [Resolved(r["id"], r["reporter_id"], r["rule"] is not None) for r in ordered]


async def insert_warning(
    conn: Connection,
    tenant: str,
    *,
    warning_id: str,
    user_id: str,
    post_id: str,
    moderator_id: str,
    note: str | None,
) -> None:
    """Record a warning to ``user_id`` about ``post_id``."""
    await conn.execute(
        "INSERT INTO warnings (tenant_id, id, user_id, post_id, moderator_id, note) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        tenant,
        warning_id,
        user_id,
        post_id,
        moderator_id,
        note,
    )


async def post_of(conn: Connection, tenant: str, post_id: str) -> Post | None:
    """A post of the tenant, deleted or not (a case outlives its post)."""
    row = await conn.fetchrow(
        "SELECT * FROM posts WHERE tenant_id = $1 AND id = $2", tenant, post_id
    )
    return post_from_row(row) if row is not None else None


def position_of(case: Case) -> QueuePosition:
    """Where the queue continues after ``case``."""
    return QueuePosition(case.first_at, case.id)
