"""What the fanout routes get from the running service."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from canopy_common.service import Runtime, runtime_of
from canopy_fanout.adapters.feed_store import FeedStore
from canopy_fanout.impressions import ImpressionBuffer
from canopy_fanout.metrics import fanout_metrics
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


def reads_of(request: Request) -> Reads:
    runtime = runtime_of(request)
    return Reads(
        pool=runtime.pool,
        feeds=feed_store(runtime),
        settings=cast(Settings, runtime.settings),
        metrics=fanout_metrics(),
    )


def impressions_of(request: Request) -> ImpressionBuffer:
    return runtime_of(request).component(ImpressionBuffer)


CurrentReads = Annotated[Reads, Depends(reads_of)]
Impressions = Annotated[ImpressionBuffer, Depends(impressions_of)]
