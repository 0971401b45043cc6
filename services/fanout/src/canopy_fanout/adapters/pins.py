"""The pins projection (``fanout.pins``): which posts each group has pinned, from the ``Add``
and ``Remove`` of a post to its ``featured`` collection. The caller owns the transaction; the
pinned items themselves are read from the activity store (:func:`items.pinned`)."""

from __future__ import annotations

from datetime import datetime

from canopy_common.db import Connection


async def set_pin(
    conn: Connection, tenant: str, group_id: str, object_id: str, *, on: bool, at: datetime
) -> None:
    """Pin or unpin a post as of ``at``; a change older than the one stored is ignored."""
    await conn.execute(
        "INSERT INTO pins (tenant_id, group_id, object_id, pinned, changed_at) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (tenant_id, group_id, object_id) DO UPDATE "
        "SET pinned = EXCLUDED.pinned, changed_at = EXCLUDED.changed_at "
        "WHERE pins.changed_at < EXCLUDED.changed_at",
        tenant,
        group_id,
        object_id,
        on,
        at,
    )
