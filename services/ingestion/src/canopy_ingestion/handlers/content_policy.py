"""A tenant's content rules (docs/architecture.md §4): tenant admins replace them, audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from canopy_common.db import Connection
from canopy_ingestion.adapters import audit, people
from canopy_ingestion.domain.audit import AuditAction
from canopy_ingestion.domain.policy import DEFAULT_RULES, checked_policy


@dataclass(frozen=True)
class ReplaceContentPolicy:
    tenant_id: str
    rules: Sequence[tuple[str, str | None]] | None  # (name, pattern); None: the defaults
    by: str  # the tenant admin's user id


async def handle_replace_content_policy(cmd: ReplaceContentPolicy, *, conn: Connection) -> None:
    """Check and store the tenant's new rules (422 naming the first bad one) and record a
    ``policy.update`` with the rule names before and after, in the caller's transaction."""
    stored = None
    if cmd.rules is not None:
        checked_policy(cmd.rules)
        stored = [{"name": name, "pattern": pattern} for name, pattern in cmd.rules]
    before = await people.replace_content_policy(conn, cmd.tenant_id, stored)
    await audit.record(
        conn,
        tenant=cmd.tenant_id,
        actor=cmd.by,
        action=AuditAction.POLICY_UPDATE,
        target=cmd.tenant_id,
        details={
            "from": _names(before),
            "to": _names(stored),
            "defaults": {"from": before is None, "to": stored is None},
        },
    )


def _names(policy: Sequence[Any] | None) -> list[str]:
    if policy is None:
        return [rule.name for rule in DEFAULT_RULES]
    return [str(entry.get("name")) for entry in policy if isinstance(entry, dict)]
