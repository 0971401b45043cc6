"""Impressions: which items a reader was shown, batched onto ``canopy.impressions.v1``
(docs/architecture.md §2) for analytics' reach and active-user figures.

Feed reads only append to an in-memory buffer; a background loop publishes it every
``impressions_flush_s`` (or sooner when ``impressions_batch`` items wait), one record per
reader keyed ``tenant:viewer`` (the JSON of :class:`canopy_common.impressions.Impressions`,
split when a reader saw more than a record may hold). Impressions are a measurement: a crash
loses at most one flush interval of them, and nothing else depends on them.

A read adds a page's worth (20 items) each time, so neither side builds a pydantic model per
item: a read checks its ids as the model would, a flush writes the records with orjson and
sends them all at once (one broker round trip, not one per reader).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from canopy_common.impressions import MAX_ID_LENGTH, MAX_ITEMS_PER_RECORD
from canopy_common.loops import BackgroundLoop
from canopy_common.transient import is_transient

log = structlog.get_logger(__name__)

Send = Callable[[str, bytes], Awaitable[Any]]  # (key, value: an Impressions record as JSON)
# Kept at most this many impressions while the broker is away; older ones are dropped.
MAX_BUFFERED = 100_000

_Seen = tuple[str, str, str, datetime]  # activity, object, feed, viewed at


def _is_id(value: str) -> bool:
    """What :data:`canopy_common.impressions.Id` accepts: 1 to MAX_ID_LENGTH characters, not
    all whitespace."""
    return 0 < len(value) <= MAX_ID_LENGTH and not value.isspace()


class ImpressionBuffer(BackgroundLoop):
    task_name = "impressions"

    def __init__(self, send: Send, *, flush_s: float, batch: int) -> None:
        super().__init__()
        self._send = send
        self._flush_s = flush_s
        self._batch = batch
        self._pending: dict[tuple[str, str], list[_Seen]] = {}
        self._size = 0

    @property
    def ready(self) -> bool:
        return self.running

    def add(self, tenant: str, viewer: str, feed: str, seen: Sequence[tuple[str, str]]) -> None:
        """Record that ``viewer`` was shown ``seen`` — (activity id, object id) pairs."""
        if not seen or self._size >= MAX_BUFFERED:
            return
        # A measurement: never fail the read over it.
        ids = (tenant, viewer, feed, *(i for pair in seen for i in pair))
        if not all(map(_is_id, ids)):
            log.warning("impressions not recorded", tenant=tenant, viewer=viewer, feed=feed)
            return
        now = datetime.now(UTC)
        self._pending.setdefault((tenant, viewer), []).extend(
            (activity, obj, feed, now) for activity, obj in seen
        )
        self._size += len(seen)
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
        records: list[tuple[str, str, list[_Seen]]] = []
        for (tenant, viewer), seen in pending.items():
            for start in range(0, len(seen), MAX_ITEMS_PER_RECORD):
                records.append((tenant, viewer, seen[start : start + MAX_ITEMS_PER_RECORD]))
        outcomes = await asyncio.gather(
            *(self._send(f"{t}:{v}", _record(t, v, items)) for t, v, items in records),
            return_exceptions=True,
        )
        sent = 0
        for (tenant, viewer, items), outcome in zip(records, outcomes, strict=True):
            if not isinstance(outcome, BaseException):
                sent += len(items)
                continue
            if not isinstance(outcome, Exception) or not is_transient(outcome):
                raise outcome
            log.warning("impressions not published, kept for later", error=str(outcome))
            self._pending.setdefault((tenant, viewer), []).extend(items)
            self._size += len(items)
        return sent


def _record(tenant: str, viewer: str, items: Sequence[_Seen]) -> bytes:
    """The JSON of :class:`~canopy_common.impressions.Impressions` (times in UTC, ``Z``)."""
    return orjson.dumps(
        {
            "tenant": tenant,
            "viewer": viewer,
            "items": [
                {"activity": activity, "object": obj, "feed": feed, "viewed_at": at}
                for activity, obj, feed, at in items
            ],
        },
        option=orjson.OPT_UTC_Z,
    )
