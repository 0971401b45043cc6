"""The collaborators of fanout's write path (docs/architecture.md §5), one value handed to every
handler as a keyword-only argument."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from canopy_common.members import Members
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.metrics import FanoutMetrics
from canopy_fanout.read_cache import ReadCaches
from canopy_fanout.settings import Settings

# (key, value, chunk number) onto the work topic
Publish = Callable[[str, bytes, int], Awaitable[None]]


@dataclass(frozen=True)
class Fanout:
    """The collaborators of the write path."""

    feeds: FeedStore
    settings: Settings
    metrics: FanoutMetrics
    publish_work: Publish
    members: Members  # who may act: forgotten when a person changes
    read_caches: ReadCaches  # the read path's: a person's standing, forgotten when it changes
