"""The fanout service's collaborators, built once per process from its running clients.

The consumers (the write path), the routes (the read path) and the workers all take them from
here: one :class:`FeedStore` and one :class:`Reads` (whose caches live as long as the process).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from canopy_common.service import Runtime
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.metrics import fanout_metrics
from canopy_fanout.read_cache import ReadCaches
from canopy_fanout.reads import Reads
from canopy_fanout.settings import Settings
from canopy_fanout.write_path import Fanout


@dataclass(frozen=True)
class Collaborators:
    """What the fanout service's consumers, routes and workers use."""

    runtime: Runtime[Settings]
    feeds: FeedStore
    fanout: Fanout  # the write path
    reads: Reads  # the read path

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


def bootstrap(runtime: Runtime[Settings]) -> Collaborators:
    """Build the service's collaborators from its clients (once, in the lifespan)."""
    settings = runtime.settings
    feeds = FeedStore(
        runtime.redis,
        cap=settings.feed_cap,
        timeline_ttl_s=settings.active_window_s,
        body_ttl_s=settings.body_ttl_s,
    )

    async def publish_work(key: str, value: bytes, n: int) -> None:
        # Chunk n of an item goes to the partition n after the key's own, so the chunks of
        # one big fan-out spread evenly over the partitions (and the workers holding them).
        topic = settings.kafka.topic_fanout_work
        partitions = await runtime.producer.partitions_for(topic)
        partition = partitions[(zlib.crc32(key.encode()) + n) % len(partitions)]
        await runtime.producer.send(topic, value, key=key, partition=partition)

    metrics = fanout_metrics()
    caches = ReadCaches(settings.read_cache_s)
    return Collaborators(
        runtime=runtime,
        feeds=feeds,
        fanout=Fanout(
            feeds=feeds,
            settings=settings,
            metrics=metrics,
            publish_work=publish_work,
            members=runtime.members,
            read_caches=caches,
        ),
        reads=Reads(
            pool=runtime.pool,
            feeds=feeds,
            settings=settings,
            metrics=metrics,
            caches=caches,
        ),
    )
