"""The collaborators of fanout's read path (docs/architecture.md §5, "Reads"), one value shared by
:mod:`canopy_fanout.reads` and :mod:`canopy_fanout.lookups`, so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.metrics import FanoutMetrics
from canopy_fanout.read_cache import ReadCaches
from canopy_fanout.settings import Settings


@dataclass(frozen=True)
class Reads:
    """The collaborators of the read path (one per process: ``caches`` outlive requests)."""

    pool: asyncpg.Pool
    feeds: FeedStore
    settings: Settings
    metrics: FanoutMetrics
    caches: ReadCaches
