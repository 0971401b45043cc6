"""Ingestion's section of a person's export (docs/architecture.md §16 "Export"): every row of
the write model that is theirs or about them, whole (``to_jsonb`` of the row, so a column
added later is exported too), in a stable order.

Left out: the outbox and idempotency keys (transport copies of the same writes, pruned within
a day) and other people's rows that merely name the person (their posts mentioning them).
"""

from __future__ import annotations

from typing import Any

from canopy_common.db import Connection
from canopy_common.export_answers import SectionQuery, rows_section
from canopy_common.exports import ExportRequest


def _rows(table: str, where: str, order: str) -> SectionQuery:
    return SectionQuery(
        f"SELECT to_jsonb(t) - 'tenant_id' FROM {table} t "
        f"WHERE t.tenant_id = $1 AND {where} ORDER BY {order}"
    )


QUERIES: dict[str, SectionQuery] = {
    "profile": SectionQuery(
        "SELECT to_jsonb(t) - 'tenant_id' FROM users t WHERE t.tenant_id = $1 AND t.id = $2",
        single=True,
    ),
    "posts": _rows("posts", "t.author_id = $2", "t.created_at, t.id"),
    "reactions": _rows("reactions", "t.user_id = $2", "t.created_at, t.post_id, t.kind"),
    "following": _rows("follows", "t.follower_id = $2", "t.created_at, t.followee_id"),
    "followers": _rows("follows", "t.followee_id = $2", "t.created_at, t.follower_id"),
    "followed_tags": _rows("tag_follows", "t.user_id = $2", "t.created_at, t.tag"),
    "memberships": SectionQuery(
        "SELECT to_jsonb(t) - 'tenant_id' || jsonb_build_object("
        "    'group_name', g.name, 'group_visibility', g.visibility) "
        "FROM memberships t JOIN groups g ON g.tenant_id = t.tenant_id AND g.id = t.group_id "
        "WHERE t.tenant_id = $1 AND t.user_id = $2 ORDER BY t.created_at, t.group_id"
    ),
    "invites": _rows("invites", "t.invitee_id = $2", "t.created_at, t.group_id"),
    "join_requests": _rows("join_requests", "t.requester_id = $2", "t.created_at, t.group_id"),
    "blocks": _rows("blocks", "t.blocker_id = $2", "t.created_at, t.blocked_id"),
    "mutes": _rows("mutes", "t.user_id = $2", "t.created_at, t.muted_id"),
    "bookmarks": _rows("bookmarks", "t.user_id = $2", "t.created_at, t.post_id"),
    "conversation_reads": _rows("conversation_reads", "t.user_id = $2", "t.thread_id"),
    "flags_reported": _rows("flags", "t.reporter_id = $2", "t.created_at, t.id"),
    "warnings": _rows("warnings", "t.user_id = $2", "t.created_at, t.id"),
    # What was done to them or by them that the audit log recorded (§14).
    "audit": _rows("audit_log", "(t.target = $2 OR t.actor = $2)", "t.seq"),
}


async def ingestion_section(conn: Connection, request: ExportRequest) -> dict[str, Any]:
    """Ingestion's section for ``request``, read in the caller's transaction."""
    return await rows_section(conn, QUERIES, request)
