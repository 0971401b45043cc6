"""What the fanout routes get from the running service.

The dependencies are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its
thread pool, a thread hop on every request for what is a lookup.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from canopy_common.service import Runtime, runtime_of
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.impressions import ImpressionBuffer
from canopy_fanout.metrics import fanout_metrics
from canopy_fanout.read_cache import ReadCaches
from canopy_fanout.reads import Reads
from canopy_fanout.settings import Settings


def feed_store(runtime: Runtime) -> FeedStore:
    """The service's :class:`FeedStore` (one per process, made on first use)."""
    existing = getattr(runtime, "_feed_store", None)
    if isinstance(existing, FeedStore):
        return existing
    settings = cast(Settings, runtime.settings)
    store = FeedStore(
        runtime.redis,
        cap=settings.feed_cap,
        timeline_ttl_s=settings.active_window_s,
        body_ttl_s=settings.body_ttl_s,
    )
    runtime._feed_store = store  # type: ignore[attr-defined]
    return store


def process_reads(runtime: Runtime) -> Reads:
    """The service's :class:`Reads` (one per process, made on first use: its caches live as
    long as the process)."""
    existing = getattr(runtime, "_reads", None)
    if isinstance(existing, Reads):
        return existing
    settings = cast(Settings, runtime.settings)
    reads = Reads(
        pool=runtime.pool,
        feeds=feed_store(runtime),
        settings=settings,
        metrics=fanout_metrics(),
        caches=ReadCaches(settings.read_cache_s),
    )
    runtime._reads = reads  # type: ignore[attr-defined]
    return reads


async def reads_of(request: Request) -> Reads:
    return process_reads(runtime_of(request))


async def impressions_of(request: Request) -> ImpressionBuffer:
    return runtime_of(request).component(ImpressionBuffer)


CurrentReads = Annotated[Reads, Depends(reads_of)]
Impressions = Annotated[ImpressionBuffer, Depends(impressions_of)]
