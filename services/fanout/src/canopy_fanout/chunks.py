"""Big fan-outs in slices (docs/architecture.md §5.5): an audience over the chunk size goes out as
``canopy.fanout.work.v1`` records, so every fanout worker shares the pushes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from canopy_common.errors import InvalidInput
from canopy_fanout.domain.entries import Position
from canopy_fanout.domain.model import Item
from canopy_fanout.metrics import FanoutMetrics
from canopy_fanout.write_path import Fanout


@dataclass(frozen=True)
class Chunk:
    """One slice of a big fan-out, as carried on ``canopy.fanout.work.v1``."""

    tenant: str
    activity_id: str
    position: Position
    published: datetime
    readers: list[str]

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "tenant": self.tenant,
                "activity": self.activity_id,
                "score": self.position.score,
                "entry": self.position.member.hex(),
                "published": self.published.isoformat(),
                "readers": self.readers,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> Chunk:
        """Parse a work record; :class:`InvalidInput` (dead-lettered) for anything else."""
        try:
            doc = orjson.loads(raw)
            readers = doc["readers"]
            if not isinstance(readers, list) or not all(isinstance(r, str) for r in readers):
                raise TypeError("readers must be a list of user ids")
            member = bytes.fromhex(doc["entry"])
            if len(member) != 16:
                raise ValueError("entry must be 16 bytes")
            return cls(
                tenant=str(doc["tenant"]),
                activity_id=str(doc["activity"]),
                position=Position(int(doc["score"]), member),
                published=datetime.fromisoformat(doc["published"]),
                readers=readers,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a fan-out work chunk: {exc}") from exc


async def publish_chunks(
    item: Item, position: Position, readers: Sequence[str], *, fanout: Fanout
) -> None:
    """Split ``readers`` into chunks of the configured size and publish them."""
    size = fanout.settings.chunk_size
    chunks = [
        Chunk(
            item.tenant_id, item.activity_id, position, item.published, list(readers[i : i + size])
        )
        for i in range(0, len(readers), size)
    ]
    await asyncio.gather(
        *(
            fanout.publish_work(f"{item.tenant_id}:{item.activity_id}", chunk.encode(), n)
            for n, chunk in enumerate(chunks)
        )
    )
    fanout.metrics.chunks.labels("published").inc(len(chunks))


async def apply_chunk(chunk: Chunk, *, fanout: Fanout) -> None:
    """Write one chunk into its readers' home feeds (idempotent)."""
    await fanout.feeds.push_homes(chunk.tenant, chunk.readers, [chunk.position])
    fanout.metrics.chunks.labels("applied").inc()
    observe_latency(fanout.metrics, chunk.published, "chunk")


def observe_latency(metrics: FanoutMetrics, published: datetime, path: str) -> None:
    """How long after its publication an item reached its readers, by path (direct, chunk)."""
    metrics.latency.labels(path).observe(max(time.time() - published.timestamp(), 0.0))
