"""Settings of the fanout service (`CANOPY_FANOUT_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from canopy_common.settings import ServiceSettings

DAY_S = 86_400.0


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_FANOUT_", extra="ignore")

    service_name: str = "fanout"
    port: int = 8002
    consumer_group: str = "canopy-fanout"
    db_schema: str = "fanout"

    # 800 (Mastodon's figure): days of reading for most people; older pages come from Postgres.
    feed_cap: int = Field(default=800, ge=1, description="Items kept per feed in Redis")
    # A timeline of up to the cap then takes ~28 bytes per entry instead of ~120 (see
    # adapters/timeline_encoding.py); off when the server's settings are managed elsewhere.
    compact_timelines: bool = Field(
        default=True,
        description="At start, raise Redis's zset-max-listpack-entries to the feed cap",
    )
    # Beyond this many followers (or members) one write would touch too many feeds: the
    # source's items are merged into its readers' home feeds when they read instead.
    push_limit: int = Field(
        default=10_000, ge=1, description="Audience size above which a source is pulled, not pushed"
    )
    # 1,000 recipients is one Redis round trip of a few milliseconds: small enough to spread
    # a big fan-out over every fanout worker, big enough that the work topic stays quiet.
    chunk_size: int = Field(default=1_000, ge=1, description="Recipients per fan-out work message")
    # The pushes themselves run in Redis (one script call per 1,000 readers, ~3 ms of Redis
    # each), so a push-limit audience is written by the worker that got the item: through the
    # work topic it cost the broker and the workers more than the pushes did (make bench).
    # Only bigger audiences (hashtag followers, a push limit raised) are spread.
    spread_over: int = Field(
        default=20_000, ge=0, description="Audiences above this go out as work-topic chunks"
    )
    backfill: int = Field(
        default=200, ge=0, description="Recent items a follow or join copies into the home feed"
    )
    # Feeds of people away longer are not kept up to date: rebuilt from Postgres on return.
    active_window_s: float = Field(
        default=14 * DAY_S, gt=0, description="Readers seen within this many seconds get pushes"
    )
    body_ttl_s: float = Field(
        default=7 * DAY_S, gt=0, description="How long an item's body stays cached in Redis"
    )
    # Reads reuse what they looked up in Postgres (a reader's graph, post counts) for this
    # long: a warm read then touches Redis only. A kept graph may show an item, never hide one
    # (read_cache.py), so only counts and items the write path failed to take out can be this
    # old (changes reach fanout through the broker, a lag of the same order); 0: no reuse.
    read_cache_s: float = Field(
        default=1.0, ge=0, description="Seconds reads reuse a reader's graph and post counts"
    )
    default_page_size: int = Field(default=20, ge=1, description="Feed page size by default")
    max_page_size: int = Field(default=100, ge=1, le=1000, description="Largest feed page size")
    impressions_flush_s: float = Field(
        default=1.0, gt=0, description="Impressions are published at least this often"
    )
    # Only a bound on memory: each publish sends one record per reader, so a small batch
    # under load means a record per feed read (20,000 is a second of 1,000 reads/s).
    impressions_batch: int = Field(
        default=20_000, ge=1, description="Impressions buffered before an early publish"
    )
