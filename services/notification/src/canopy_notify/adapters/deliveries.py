"""Outside-channel deliveries (email, push) waiting in Postgres until they are due: after the
grace period for people not on the live stream, or at the end of their digest period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from canopy_common.db import Connection
from canopy_notify.domain.model import Channel, Digest

OUTSIDE = (Channel.EMAIL, Channel.PUSH)
_PERIOD = {Digest.HOURLY: timedelta(hours=1), Digest.DAILY: timedelta(days=1)}


def digest_due(digest: Digest, now: datetime) -> datetime:
    """When the digest period holding ``now`` ends: the next full hour, midnight (UTC), or
    Monday midnight."""
    if digest is Digest.HOURLY:
        return now.replace(minute=0, second=0, microsecond=0) + _PERIOD[digest]
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if digest is Digest.DAILY:
        return midnight
    return midnight + timedelta(days=(7 - midnight.weekday()) % 7)


async def schedule(
    conn: Connection,
    tenant: str,
    recipient: str,
    notification_id: int,
    *,
    channels: Iterable[Channel],
    digest: Digest | None,
    urgent: bool,
    grace_s: float,
) -> None:
    now = datetime.now(UTC)
    for channel in OUTSIDE:
        if channel not in channels:
            continue
        held = digest is not None and digest is not Digest.OFF and not urgent
        held = held and channel is Channel.EMAIL  # a push is never a digest
        await conn.execute(
            "INSERT INTO deliveries (tenant_id, recipient, notification_id, channel, digest, "
            "send_after) VALUES ($1, $2, $3, $4, $5, $6)",
            tenant,
            recipient,
            notification_id,
            channel.value,
            digest.value if held and digest is not None else None,
            digest_due(digest, now)
            if held and digest is not None
            else now + timedelta(seconds=grace_s),
        )


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    tenant_id: str
    recipient: str
    channel: str
    digest: str | None
    notification_id: int
    created_at: datetime
    read: bool
    active: bool  # the recipient's standing now: a deactivated person gets nothing


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[Pending]:
    """Deliveries due by ``now``, locked for this transaction (SKIP LOCKED), with whether
    their recipient is still active."""
    rows = await conn.fetch(
        "SELECT d.id, d.tenant_id, d.recipient, d.channel, d.digest, d.notification_id, "
        "n.created_at, n.read_at IS NOT NULL AS read, "
        "COALESCE(p.active, true) AS active FROM deliveries d "
        "JOIN notifications n ON n.id = d.notification_id "
        "LEFT JOIN people p ON p.tenant_id = d.tenant_id AND p.user_id = d.recipient "
        "WHERE d.sent_at IS NULL AND d.send_after <= $1 ORDER BY d.send_after, d.id "
        "LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
        now,
        limit,
    )
    return [Pending(**dict(r)) for r in rows]


async def mark(conn: Connection, ids: Iterable[int], outcome: str) -> None:
    await conn.execute(
        "UPDATE deliveries SET sent_at = now(), outcome = $2 WHERE id = ANY($1::bigint[])",
        list(ids),
        outcome,
    )


def group_pending(
    pending: Iterable[Pending],
) -> dict[tuple[str, str, str, str | None], list[Pending]]:
    """Digest rows of one person and channel go out together; others one by one."""
    groups: dict[tuple[str, str, str, str | None], list[Pending]] = {}
    for p in pending:
        key = (p.tenant_id, p.recipient, p.channel, p.digest or f"single:{p.id}")
        groups.setdefault(key, []).append(p)
    return groups
