"""Settings of the ingestion service (`CANOPY_INGESTION_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from canopy_common.settings import ServiceSettings

HOUR_S = 3600.0


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_INGESTION_", extra="ignore")

    service_name: str = "ingestion"
    port: int = 8001
    consumer_group: str = "canopy-ingestion"
    db_schema: str = "ingestion"

    # The relay wakes on NOTIFY at once; polling only covers a lost listener connection.
    relay_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="Outbox relay: look for unsent rows this often when no NOTIFY wakes it",
    )
    # One transaction per batch: big enough to amortise it, small enough to hold locks briefly.
    relay_batch_size: int = Field(
        default=500, ge=1, description="Outbox relay: most rows published per transaction"
    )
    # 16 of the 64 buckets: up to four relays side by side each find work of their own.
    relay_buckets_per_claim: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Outbox relay: most of the 64 key buckets one relay locks per batch",
    )
    # Passes overlap their Postgres and broker round trips; 4 x 16 buckets can cover all 64.
    relay_concurrency: int = Field(
        default=4, ge=1, description="Outbox relay: passes side by side, each on its own buckets"
    )
    # Under the 1 MB a Kafka broker accepts in one record batch by default (message.max.bytes).
    relay_max_batch_bytes: int = Field(
        default=512 * 1024,
        ge=1024,
        description="Outbox relay: largest Kafka record batch it sends to one partition",
    )
    # A day of sent rows helps to answer "was it published?"; they serve nothing else.
    relay_retention_s: float = Field(
        default=24 * HOUR_S, ge=0, description="Outbox relay: how long sent rows are kept"
    )
    relay_prune_interval_s: float = Field(
        default=300.0,
        gt=0,
        description="Outbox relay: how often sent rows past the retention are deleted",
    )

    # docs/architecture.md §16 "Export". Sections usually arrive within a second; a request
    # waits this long before it answers 202 with Retry-After and is polled instead.
    export_wait_s: float = Field(
        default=10.0,
        ge=0,
        le=60,
        description="Export: how long GET /v1/users/{id}/export waits for every section",
    )
    # An export gathers every service's data: asking again within this serves the same one
    # (its sections say when each was built), so nobody can make the services rebuild at will.
    export_reuse_s: float = Field(
        default=HOUR_S,
        ge=0,
        description="Export: a person's newest export younger than this is served again",
    )
    # Personal data outside its owners' tables: kept long enough to be downloaded, then gone.
    export_retention_s: float = Field(
        default=7 * 24 * HOUR_S,
        gt=0,
        description="Export: how long an export (and every section of it) is kept",
    )
    export_purge_interval_s: float = Field(
        default=300.0, gt=0, description="Export: how often exports past the retention are deleted"
    )
