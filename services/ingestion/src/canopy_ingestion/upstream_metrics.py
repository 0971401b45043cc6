"""Upstream traffic per source system: not rate-limited (the broker buffers it and the
consumer takes it at its own pace), but measured (docs/architecture.md §10).

``canopy_ingestion_upstream_records_total{source}`` counts applied upstream records by the
activity's ``source`` term. Sources are names upstream systems choose, so the label is
bounded: a name that is not a short slug counts as ``invalid``, and past
:data:`MAX_SOURCES` distinct names in one process every new one counts as ``other``.
"""

from __future__ import annotations

import re
import threading
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter

from canopy_common.events import StrictActivity
from canopy_common.metrics import get_or_create_counter, metric_name
from canopy_ingestion.domain.upstream import UPSTREAM_SOURCE

# A company connects a handful of systems (HR, tasks, IT); 32 leaves room and keeps the
# series few.
MAX_SOURCES = 32
OTHER = "other"
INVALID = "invalid"
_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")


class UpstreamSources:
    """Counts upstream records by their source, the label's values bounded (module doc)."""

    def __init__(self) -> None:
        self._records: Counter = get_or_create_counter(
            metric_name("ingestion", "upstream_records_total"),
            "Upstream records applied, by source system (bounded: invalid, other).",
            ("source",),
        )
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, source: str | None) -> str:
        """The label value counting ``source``."""
        name = (source or UPSTREAM_SOURCE).lower()
        if not _SLUG.fullmatch(name):
            return INVALID
        with self._lock:
            if name in self._known:
                return name
            if len(self._known) >= MAX_SOURCES:
                return OTHER
            self._known.add(name)
            return name

    def count(self, activities: Iterable[StrictActivity]) -> None:
        """Count ``activities`` (applied) by source."""
        for label, n in Tally(self.label(a.source) for a in activities).items():
            self._records.labels(label).inc(n)


_sources: UpstreamSources | None = None


def upstream_sources() -> UpstreamSources:
    """The process's one counter of upstream sources."""
    global _sources
    if _sources is None:
        _sources = UpstreamSources()
    return _sources
