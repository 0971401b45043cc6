"""A Postgres LISTEN that wakes a worker (docs/architecture.md §4 "Outbox relay", §17).

Workers that poll a table (ingestion's outbox relay, analytics' embedding worker) also listen
on a channel their writers NOTIFY after each commit, so they wake at once instead of at the
next poll. The listening connection is a connection of its own (a pooled one would be handed
to others); it may drop at any time, and polling covers the gap until :meth:`Listener.ensure`
opens it again.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_S = 10.0  # a server that does not answer in this time is down: poll
CLOSE_TIMEOUT_S = 5.0  # then the connection is terminated


class Listener:
    """Sets ``wake`` on every NOTIFY on ``channel``; ``name`` says whose in the logs."""

    def __init__(self, dsn: str, channel: str, wake: asyncio.Event, *, name: str) -> None:
        self._dsn = dsn
        self._channel = channel
        self._wake = wake
        self._name = name
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        self._failed = False

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def ensure(self) -> None:
        """Listen, (re)opening the connection when it is not open; a failure is logged once
        per outage and leaves the worker polling."""
        if self.listening:
            return
        self._conn = None
        try:
            conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_S)
            try:
                await conn.add_listener(self._channel, self._notified)
            except BaseException:
                conn.terminate()
                raise
        except Exception as exc:
            if not self._failed:
                log.warning(f"{self._name}: cannot LISTEN, polling meanwhile", error=str(exc))
            self._failed = True
            return
        if self._failed:
            log.info(f"{self._name}: listening again")
        self._failed = False
        self._conn = conn

    async def close(self) -> None:
        """Stop listening; safe to call twice."""
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), CLOSE_TIMEOUT_S)
        except Exception:
            with contextlib.suppress(Exception):
                conn.terminate()

    def _notified(self, *_: object) -> None:
        self._wake.set()
