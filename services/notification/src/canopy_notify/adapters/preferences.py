"""Preferences, digest, reminder lead times, the question routing delay and mutes in Postgres
(docs/architecture.md §6).

Tenant defaults and user overrides are stored sparse and resolved when read
(:func:`canopy_notify.domain.preferences.resolve`), so a changed tenant default reaches
everyone without an override of their own. Functions that serve the consumer take many users
at once and answer in one query per table: no round trip per recipient. Repositories never
commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import asyncpg

from canopy_common.db import Connection
from canopy_notify.domain.model import Category, Channel, Digest
from canopy_notify.domain.pipeline import Mute
from canopy_notify.domain.preferences import Resolved, Setting, TenantDefault, resolve


def _setting(row: asyncpg.Record) -> Setting | None:
    """The setting a row is about; None for a category or channel this build does not know
    (left by a newer or older version): it is ignored, never an error."""
    try:
        return Category(row["category"]), Channel(row["channel"])
    except ValueError:
        return None


def _unique(users: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(users))


# --- category and channel ---------------------------------------------------------------


async def tenant_defaults(conn: Connection, tenant: str) -> dict[Setting, TenantDefault]:
    """The tenant's own defaults (sparse over the built-in ones)."""
    rows = await conn.fetch(
        "SELECT category, channel, enabled, locked FROM tenant_preferences WHERE tenant_id = $1",
        tenant,
    )
    return {
        setting: TenantDefault(row["enabled"], locked=row["locked"])
        for row in rows
        if (setting := _setting(row)) is not None
    }


async def user_overrides(conn: Connection, tenant: str, user: str) -> dict[Setting, bool]:
    """What ``user`` chose themselves (sparse)."""
    rows = await conn.fetch(
        "SELECT category, channel, enabled FROM user_preferences "
        "WHERE tenant_id = $1 AND user_id = $2",
        tenant,
        user,
    )
    return {setting: row["enabled"] for row in rows if (setting := _setting(row)) is not None}


async def resolved_for(conn: Connection, tenant: str, users: Sequence[str]) -> dict[str, Resolved]:
    """Every one of ``users``' resolved preferences (a guest's as guests resolve: someone not
    heard of counts as one, as the pipeline counts them): two queries however many users."""
    wanted = _unique(users)
    if not wanted:
        return {}
    defaults = await tenant_defaults(conn, tenant)
    rows = await conn.fetch(
        "SELECT u.user_id, p.kind IS NOT NULL AND p.kind <> 'guest' AS employee, "
        "o.category, o.channel, o.enabled FROM unnest($2::text[]) AS u(user_id) "
        "LEFT JOIN people p ON p.tenant_id = $1 AND p.user_id = u.user_id "
        "LEFT JOIN user_preferences o ON o.tenant_id = $1 AND o.user_id = u.user_id",
        tenant,
        wanted,
    )
    overrides: dict[str, dict[Setting, bool]] = {user: {} for user in wanted}
    guests: set[str] = set()
    for row in rows:
        if not row["employee"]:
            guests.add(row["user_id"])
        if row["category"] is not None and (setting := _setting(row)) is not None:
            overrides[row["user_id"]][setting] = row["enabled"]
    return {user: resolve(defaults, overrides[user], guest=user in guests) for user in wanted}


async def set_user_overrides(
    conn: Connection, tenant: str, user: str, wanted: Mapping[Setting, bool | None]
) -> None:
    """Set ``user``'s overrides; None removes one (back to the tenant or built-in default).

    Locks are the caller's to check (:func:`~canopy_notify.domain.preferences.locked_conflicts`).
    """
    chosen = [(s, enabled) for s, enabled in wanted.items() if enabled is not None]
    removed = [s for s, enabled in wanted.items() if enabled is None]
    if chosen:
        await conn.execute(
            "INSERT INTO user_preferences (tenant_id, user_id, category, channel, enabled) "
            "SELECT $1, $2, c, ch, e FROM unnest($3::text[], $4::text[], $5::boolean[]) "
            "AS t(c, ch, e) ON CONFLICT (tenant_id, user_id, category, channel) "
            "DO UPDATE SET enabled = excluded.enabled",
            tenant,
            user,
            [c.value for (c, _), _ in chosen],
            [ch.value for (_, ch), _ in chosen],
            [enabled for _, enabled in chosen],
        )
    if removed:
        await conn.execute(
            "DELETE FROM user_preferences WHERE tenant_id = $1 AND user_id = $2 "
            "AND (category, channel) IN (SELECT * FROM unnest($3::text[], $4::text[]))",
            tenant,
            user,
            [c.value for c, _ in removed],
            [ch.value for _, ch in removed],
        )


async def set_tenant_defaults(
    conn: Connection, tenant: str, wanted: Mapping[Setting, TenantDefault | None]
) -> None:
    """Set the tenant's defaults; None removes one (back to the built-in default)."""
    chosen = [(s, d) for s, d in wanted.items() if d is not None]
    removed = [s for s, d in wanted.items() if d is None]
    if chosen:
        await conn.execute(
            "INSERT INTO tenant_preferences (tenant_id, category, channel, enabled, locked) "
            "SELECT $1, c, ch, e, l "
            "FROM unnest($2::text[], $3::text[], $4::boolean[], $5::boolean[]) AS t(c, ch, e, l) "
            "ON CONFLICT (tenant_id, category, channel) "
            "DO UPDATE SET enabled = excluded.enabled, locked = excluded.locked",
            tenant,
            [c.value for (c, _), _ in chosen],
            [ch.value for (_, ch), _ in chosen],
            [d.enabled for _, d in chosen],
            [d.locked for _, d in chosen],
        )
    if removed:
        await conn.execute(
            "DELETE FROM tenant_preferences WHERE tenant_id = $1 "
            "AND (category, channel) IN (SELECT * FROM unnest($2::text[], $3::text[]))",
            tenant,
            [c.value for c, _ in removed],
            [ch.value for _, ch in removed],
        )


# --- digest and reminder lead times --------------------------------------------------------


async def digest_of(conn: Connection, tenant: str, users: Sequence[str]) -> dict[str, Digest]:
    """Each of ``users``' digest setting (``off`` when never set): one query."""
    wanted = _unique(users)
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT user_id, digest FROM user_settings "
        "WHERE tenant_id = $1 AND user_id = ANY($2::text[])",
        tenant,
        wanted,
    )
    stored = {row["user_id"]: _digest(row["digest"]) for row in rows}
    return {user: stored.get(user, Digest.OFF) for user in wanted}


def _digest(value: str) -> Digest:
    try:
        return Digest(value)
    except ValueError:  # a value this build does not know: the safe choice
        return Digest.OFF


async def set_digest(conn: Connection, tenant: str, user: str, digest: Digest) -> None:
    await conn.execute(
        "INSERT INTO user_settings (tenant_id, user_id, digest) VALUES ($1, $2, $3) "
        "ON CONFLICT (tenant_id, user_id) DO UPDATE SET digest = excluded.digest",
        tenant,
        user,
        digest.value,
    )


async def reminder_leads(conn: Connection, tenant: str, default: Sequence[int]) -> list[int]:
    """The tenant's reminder lead times in seconds, or ``default`` when it set none."""
    leads: list[int] | None = await conn.fetchval(
        "SELECT reminder_leads_s FROM tenant_settings WHERE tenant_id = $1", tenant
    )
    return list(default) if leads is None else list(leads)


async def set_reminder_leads(conn: Connection, tenant: str, leads: Sequence[int] | None) -> None:
    """Set the tenant's lead times; None: back to the service's default."""
    await conn.execute(
        "INSERT INTO tenant_settings (tenant_id, reminder_leads_s) VALUES ($1, $2::integer[]) "
        "ON CONFLICT (tenant_id) DO UPDATE SET reminder_leads_s = excluded.reminder_leads_s",
        tenant,
        None if leads is None else list(leads),
    )


async def question_routing_delay(conn: Connection, tenant: str, default: int) -> int:
    """Seconds an unanswered question waits before it is routed to likely answerers (0: the
    tenant routes none), or ``default`` when the tenant set none."""
    delay: int | None = await conn.fetchval(
        "SELECT question_routing_delay_s FROM tenant_settings WHERE tenant_id = $1", tenant
    )
    return default if delay is None else delay


async def set_question_routing_delay(conn: Connection, tenant: str, delay_s: int | None) -> None:
    """Set the tenant's routing delay; None: back to the service's default."""
    await conn.execute(
        "INSERT INTO tenant_settings (tenant_id, question_routing_delay_s) VALUES ($1, $2) "
        "ON CONFLICT (tenant_id) DO UPDATE "
        "SET question_routing_delay_s = excluded.question_routing_delay_s",
        tenant,
        delay_s,
    )


# --- mutes ---------------------------------------------------------------------------------


def _mute(row: asyncpg.Record) -> Mute:
    return Mute(kind=row["kind"], target_id=row["target_id"], until=row["until"])


async def set_mute(
    conn: Connection,
    tenant: str,
    user: str,
    kind: str,
    target_id: str,
    until: datetime | None,
) -> Mute:
    """Mute ``kind``/``target_id`` for ``user`` until ``until`` (None: until unmuted)."""
    await conn.execute(
        "INSERT INTO mutes (tenant_id, user_id, kind, target_id, until) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (tenant_id, user_id, kind, target_id) DO UPDATE SET until = excluded.until",
        tenant,
        user,
        kind,
        target_id,
        until,
    )
    return Mute(kind=kind, target_id=target_id, until=until)


async def delete_mute(
    conn: Connection, tenant: str, user: str, kind: str, target_id: str, at: datetime
) -> bool:
    """Unmute; whether a mute still active at ``at`` was there (an expired one goes too)."""
    row = await conn.fetchrow(
        "DELETE FROM mutes WHERE tenant_id = $1 AND user_id = $2 AND kind = $3 "
        "AND target_id = $4 RETURNING kind, target_id, until",
        tenant,
        user,
        kind,
        target_id,
    )
    return row is not None and _mute(row).active(at)


async def purge_expired_mutes(conn: Connection, tenant: str, user: str, at: datetime) -> int:
    """Drop ``user``'s mutes that ended by ``at`` (they are ignored anyway); how many went."""
    deleted = await conn.fetch(
        "DELETE FROM mutes WHERE tenant_id = $1 AND user_id = $2 AND until <= $3 RETURNING 1",
        tenant,
        user,
        at,
    )
    return len(deleted)


async def list_mutes(conn: Connection, tenant: str, user: str, now: datetime) -> list[Mute]:
    """``user``'s mutes still active at ``now``, by kind and target."""
    rows = await conn.fetch(
        "SELECT kind, target_id, until FROM mutes WHERE tenant_id = $1 AND user_id = $2 "
        "AND (until IS NULL OR until > $3) ORDER BY kind, target_id",
        tenant,
        user,
        now,
    )
    return [_mute(row) for row in rows]


async def active_mutes(
    conn: Connection, tenant: str, users: Sequence[str], at: datetime
) -> dict[str, tuple[Mute, ...]]:
    """Each of ``users``' mutes active at ``at`` (an empty tuple for none): one query."""
    wanted = _unique(users)
    if not wanted:
        return {}
    rows = await conn.fetch(
        "SELECT user_id, kind, target_id, until FROM mutes "
        "WHERE tenant_id = $1 AND user_id = ANY($2::text[]) AND (until IS NULL OR until > $3) "
        "ORDER BY user_id, kind, target_id",
        tenant,
        wanted,
        at,
    )
    found: dict[str, list[Mute]] = {user: [] for user in wanted}
    for row in rows:
        found[row["user_id"]].append(_mute(row))
    return {user: tuple(mutes) for user, mutes in found.items()}
