"""Work that must wait until a Postgres transaction has committed — the one idiom for it.

A handler that writes in the consumer's transaction may have work that must only happen once
those writes are visible to others or cannot be rolled back any more: Redis writes (feeds,
live events, HyperLogLogs), reads of what other transactions wrote (audiences, backfills,
docs/architecture.md §5). It defers that work to an :class:`AfterCommit`; whoever owns the
transaction runs it after the commit (on the same connection, now outside the transaction)
and drops it on a rollback. :func:`committing` does both. Deferred work must be idempotent: a
crash between the commit and it means the record is redelivered and the work redone.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from canopy_common.db import Connection

# Runs after the commit, on a connection outside any transaction.
Deferred = Callable[["Connection"], Awaitable[object]]


class AfterCommit:
    """Deferred work of one transaction, in the order it was deferred."""

    def __init__(self) -> None:
        self._work: list[Deferred] = []

    def defer(self, work: Deferred) -> None:
        """Run ``work`` once the transaction has committed."""
        self._work.append(work)

    def discard(self) -> None:
        """Forget the deferred work: the transaction rolled back (a retry defers it again)."""
        self._work.clear()

    async def run(self, conn: Connection) -> None:
        """Run the deferred work in order, then forget it; ``conn`` is outside any transaction."""
        work, self._work = self._work, []
        for deferred in work:
            await deferred(conn)


@contextlib.asynccontextmanager
async def committing(
    pool: asyncpg.Pool, after: AfterCommit | None = None
) -> AsyncIterator[tuple[Connection, AfterCommit]]:
    """A connection in a transaction, and its :class:`AfterCommit` (``after``, else a new one):
    the deferred work runs on the connection once the block's transaction has committed, and is
    dropped if it rolled back."""
    after = after if after is not None else AfterCommit()
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                yield conn, after
        except BaseException:
            after.discard()
            raise
        await after.run(conn)
