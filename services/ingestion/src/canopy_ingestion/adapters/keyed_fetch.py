"""Rows for many composite keys in one query: each key column goes to Postgres as one array,
which the query joins against (``JOIN unnest($1::text[], $2::text[]) AS k (...)``)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from canopy_common.db import Connection


async def fetch_by_keys(
    conn: Connection, query: str, keys: Iterable[tuple[str, ...]]
) -> list[asyncpg.Record]:
    """The rows ``query`` finds for ``keys``, whose n-th column is passed as ``$n``; no keys,
    no query. Keys are deduplicated and sorted, so the same keys send the same arrays."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    return await conn.fetch(query, *(list(column) for column in zip(*wanted, strict=True)))
