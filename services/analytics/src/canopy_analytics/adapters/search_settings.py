"""A tenant's search settings: the text search configuration its posts are indexed and searched
with (docs/architecture.md §17). Repositories never commit.

Changing the configuration re-indexes the tenant's posts in the same transaction. The stream
writes posts with the configuration it reads when it writes them, so a change and a batch
must not interleave: the change holds the tenant's language lock exclusively, each batch holds
it shared for the tenants it writes posts of (:func:`hold_language`) before reading the
setting. Whichever comes second waits for the first to commit and then sees its rows or its
setting, so no post keeps the old configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from canopy_common.db import Connection

DEFAULT_LANGUAGE: Final = "english"
# The lock a tenant's language change holds, and each batch writing its posts shares.
_LOCK_KEY = "hashtextextended('canopy.search-language:' || $1, 0)"


@dataclass(frozen=True, slots=True)
class Language:
    """The configuration a tenant searches with; ``updated_*`` None while it is the default."""

    language: str
    updated_at: datetime | None = None
    updated_by: str | None = None


async def hold_language(conn: Connection, tenants: Iterable[str]) -> None:
    """Hold each tenant's language lock shared until the transaction ends (the stream, before
    writing their posts). In one order, so two holders never wait on each other."""
    for tenant in sorted(set(tenants)):
        await conn.execute(f"SELECT pg_advisory_xact_lock_shared({_LOCK_KEY})", tenant)


async def language(conn: Connection, tenant: str) -> Language:
    row = await conn.fetchrow(
        "SELECT language::text AS language, updated_at, updated_by FROM search_settings "
        "WHERE tenant_id = $1",
        tenant,
    )
    if row is None:
        return Language(DEFAULT_LANGUAGE)
    return Language(row["language"], row["updated_at"], row["updated_by"])


async def configurations(conn: Connection) -> list[str]:
    """The text search configurations the database knows (``english``, ``german``, ...)."""
    rows = await conn.fetch("SELECT cfgname::text FROM pg_ts_config ORDER BY cfgname")
    return [r["cfgname"] for r in rows]


async def set_language(conn: Connection, tenant: str, wanted: str, by: str) -> tuple[Language, int]:
    """Make ``wanted`` (a configuration :func:`configurations` lists) the tenant's, and
    re-index its posts with it; the setting and how many posts were re-indexed."""
    await conn.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})", tenant)
    row = await conn.fetchrow(
        "INSERT INTO search_settings (tenant_id, language, updated_by) "
        "VALUES ($1, $2::text::regconfig, $3) ON CONFLICT (tenant_id) DO UPDATE SET "
        "language = EXCLUDED.language, updated_at = now(), updated_by = EXCLUDED.updated_by "
        "RETURNING language::text AS language, updated_at, updated_by",
        tenant,
        wanted,
        by,
    )
    assert row is not None
    status = await conn.execute(
        "UPDATE posts SET search_config = $2::text::regconfig "
        "WHERE tenant_id = $1 AND search_config <> $2::text::regconfig",
        tenant,
        wanted,
    )
    reindexed = int(status.rsplit(" ", 1)[-1])
    return Language(row["language"], row["updated_at"], row["updated_by"]), reindexed
