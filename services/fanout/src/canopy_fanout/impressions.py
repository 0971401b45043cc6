"""Impressions: which items a reader was shown, batched onto ``canopy.impressions.v1``
(ARCHITECTURE §2) for analytics' reach and active-user figures.

Feed reads only append to an in-memory buffer; a background loop publishes it every
``impressions_flush_s`` (or sooner when ``impressions_batch`` items wait), one record per
reader keyed ``tenant:viewer`` (:class:`canopy_common.impressions.Impressions`, split when a
reader saw more than a record may hold). Impressions are a measurement: a crash loses at most
one flush interval of them, and nothing else depends on them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from canopy_common.impressions import MAX_ITEMS_PER_RECORD, Impression, Impressions
from canopy_common.loops import BackgroundLoop
from canopy_common.transient import is_transient

log = structlog.get_logger(__name__)

Send = Callable[[str, Impressions], Awaitable[Any]]  # (key, value)
# Kept at most this many impressions while the broker is away; older ones are dropped.
MAX_BUFFERED = 100_000


class ImpressionBuffer(BackgroundLoop):
    task_name = "impressions"

    def __init__(self, send: Send, *, flush_s: float, batch: int) -> None:
        super().__init__()
        self._send = send
        self._flush_s = flush_s
        self._batch = batch
        self._pending: dict[tuple[str, str], list[Impression]] = {}
        self._size = 0

    @property
    def ready(self) -> bool:
        return self.running

    def add(self, tenant: str, viewer: str, feed: str, seen: Sequence[tuple[str, str]]) -> None:
        """Record that ``viewer`` was shown ``seen`` — (activity id, object id) pairs."""
        if not seen or self._size >= MAX_BUFFERED:
            return
        now = datetime.now(UTC)
        try:
            items = [
                Impression(activity=activity, object=obj, feed=feed, viewed_at=now)
                for activity, obj in seen
            ]
        except ValidationError as exc:  # a measurement: never fail the read over it
            log.warning("impressions not recorded", error=str(exc))
            return
        self._pending.setdefault((tenant, viewer), []).extend(items)
        self._size += len(items)
        if self._size >= self._batch:
            self._wake.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self._sleep(self._flush_s)
            self._wake.clear()
            await self.flush()
        await self.flush()

    async def flush(self) -> int:
        """Publish what is buffered; the number of impressions sent."""
        pending, self._pending, self._size = self._pending, {}, 0
        sent = 0
        for (tenant, viewer), seen in pending.items():
            for start in range(0, len(seen), MAX_ITEMS_PER_RECORD):
                items = seen[start : start + MAX_ITEMS_PER_RECORD]
                try:
                    value = Impressions(tenant=tenant, viewer=viewer, items=items)
                except ValidationError as exc:  # a blank tenant or viewer: nobody to count
                    log.warning("impressions not recorded", error=str(exc))
                    continue
                try:
                    await self._send(f"{tenant}:{viewer}", value)
                    sent += len(items)
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    log.warning("impressions not published, kept for later", error=str(exc))
                    self._pending.setdefault((tenant, viewer), []).extend(items)
                    self._size += len(items)
                    await asyncio.sleep(0)
        return sent
