"""Who reacted to a post (docs/architecture.md §16): a page, newest first, in one keyset
query, and whether a guest shares a group with each of them (one more)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from canopy_common.db import Connection
from canopy_ingestion.adapters.people import user_from_row
from canopy_ingestion.domain.model import ReactionKind, User

# The sort key of a reaction in the list: (reacted at, user id, kind).
ReactionKey = tuple[datetime, str, str]


@dataclass(frozen=True)
class Reaction:
    person: User
    kind: ReactionKind
    at: datetime

    @property
    def key(self) -> ReactionKey:
        return self.at, self.person.id, self.kind.value


async def reactions_page(
    conn: Connection,
    tenant_id: str,
    post_id: str,
    *,
    kind: ReactionKind | None,
    after: ReactionKey | None,
    limit: int,
) -> list[Reaction]:
    """Up to ``limit`` reactions to a post (of ``kind``, or any), newest first, after ``after``,
    each with the person who reacted."""
    sql = (
        "SELECT u.*, r.kind AS reaction, r.created_at AS reacted_at "
        "FROM reactions r JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.user_id "
        "WHERE r.tenant_id = $1 AND r.post_id = $2 AND ($4::text IS NULL OR r.kind = $4) "
    )
    args: list[object] = [tenant_id, post_id, limit, kind.value if kind else None]
    if after is not None:
        sql += "AND (r.created_at, r.user_id, r.kind) < ($5, $6, $7) "
        args += after
    sql += "ORDER BY r.created_at DESC, r.user_id DESC, r.kind DESC LIMIT $3"
    rows = await conn.fetch(sql, *args)
    return [
        Reaction(user_from_row(row), ReactionKind(row["reaction"]), row["reacted_at"])
        for row in rows
    ]


async def sharing_a_group(
    conn: Connection, tenant_id: str, user_id: str, others: Iterable[str]
) -> set[str]:
    """Which of ``others`` are members of a group ``user_id`` belongs to (one query)."""
    rows = await conn.fetch(
        "SELECT DISTINCT b.user_id FROM memberships a JOIN memberships b "
        "ON b.tenant_id = a.tenant_id AND b.group_id = a.group_id "
        "WHERE a.tenant_id = $1 AND a.user_id = $2 AND b.user_id = ANY($3::text[])",
        tenant_id,
        user_id,
        list(set(others)),
    )
    return {row["user_id"] for row in rows}
