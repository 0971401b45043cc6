"""Settings shared by every Canopy service, read from ``CANOPY_*`` environment variables.

Each group of settings has its own prefix so the same variable configures every service
(``CANOPY_PG_DSN`` points all four at one Postgres). A service's own settings subclass
:class:`ServiceSettings` with the prefix ``CANOPY_<SVC>_``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "canopy-local-development-secret-change-me"


class KafkaSettings(BaseSettings):
    """Broker address, topic names and client behaviour (``CANOPY_KAFKA_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    # 12 partitions: enough consumers per service to scale out on a small cluster.
    partitions: int = Field(default=12, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    # Off for the local broker (Tansu has no InitProducerId); turn on against real Kafka.
    enable_idempotence: bool = False
    client_id: str = "canopy"
    request_timeout_ms: int = 30_000
    # Transient failures (database, cache, broker down) are retried this many times with
    # exponential backoff before the partition is paused and the record tried again later.
    max_retries: int = Field(default=5, ge=0)
    retry_backoff_initial_ms: int = Field(default=200, ge=1)
    retry_backoff_max_ms: int = Field(default=10_000, ge=1)
    max_batch_records: int = Field(default=500, ge=1)
    # Consumer group liveness (aiokafka defaults). Tansu holds a JoinGroup for half the session
    # timeout, so tests use 6 s, the smallest value real Kafka accepts.
    session_timeout_ms: int = Field(default=10_000, ge=6_000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)

    topic_upstream: str = "canopy.upstream.v1"
    topic_activities: str = "canopy.activities.v1"
    topic_fanout_work: str = "canopy.fanout.work.v1"
    topic_impressions: str = "canopy.impressions.v1"
    topic_deliveries: str = "canopy.deliveries.v1"
    topic_dlq: str = "canopy.dlq.v1"

    def all_topics(self) -> list[str]:
        """Every topic of ARCHITECTURE §2, in a stable order."""
        return [
            self.topic_upstream,
            self.topic_activities,
            self.topic_fanout_work,
            self.topic_impressions,
            self.topic_deliveries,
            self.topic_dlq,
        ]


class PostgresSettings(BaseSettings):
    """Postgres connection (``CANOPY_PG_*``); each service uses its own schema in it."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_PG_", extra="ignore")

    # The password is for a freshly installed Debian Postgres (md5 on 127.0.0.1); servers with
    # trust auth ignore it.
    dsn: str = "postgresql://postgres:postgres@127.0.0.1:5432/canopy"
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    command_timeout_s: float = 30.0


class RedisSettings(BaseSettings):
    """Redis connection (``CANOPY_REDIS_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_REDIS_", extra="ignore")

    url: str = "redis://127.0.0.1:6379/0"
    max_connections: int = Field(default=50, ge=1)


class AuthSettings(BaseSettings):
    """JWT verification (``CANOPY_JWT_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_JWT_", extra="ignore")

    secret: str = DEFAULT_JWT_SECRET
    issuer: str = "canopy"
    audience: str = "canopy"
    # Pinned: HS256 with `secret` locally; RS256 or ES256 with `jwks_url` in production.
    algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwks_url: str | None = None
    leeway_s: int = Field(default=30, ge=0)
    # Lifetime of tokens minted by `make token` for local use.
    local_token_ttl_s: int = Field(default=8 * 3600, ge=60)

    @model_validator(mode="after")
    def _key_fits_algorithm(self) -> AuthSettings:
        if self.algorithm == "HS256" and len(self.secret.encode()) < 32:
            raise ValueError("CANOPY_JWT_SECRET must be at least 32 bytes (RFC 7518 §3.2)")
        if self.algorithm != "HS256" and not self.jwks_url:
            raise ValueError(f"CANOPY_JWT_ALGORITHM={self.algorithm} needs CANOPY_JWT_JWKS_URL")
        return self


class ServiceSettings(BaseSettings):
    """Base of every service's settings: its HTTP address plus the shared groups above.

    Subclasses set ``model_config = SettingsConfigDict(env_prefix="CANOPY_<SVC>_")`` and the
    defaults of ``service_name``, ``port`` and ``consumer_group``.
    """

    model_config = SettingsConfigDict(env_prefix="CANOPY_SERVICE_", extra="ignore")

    env: Literal["local", "test", "production"] = Field(
        default="local", validation_alias="CANOPY_ENV"
    )
    log_level: str = Field(default="INFO", validation_alias="CANOPY_LOG_LEVEL")
    log_json: bool = Field(default=True, validation_alias="CANOPY_LOG_JSON")

    service_name: str = "canopy"
    host: str = "127.0.0.1"
    port: int = 8000
    # `worker` mode serves /healthz, /readyz and /metrics here (default: port + 100), so an
    # API process and a worker process of one service can run side by side.
    worker_port: int | None = None
    consumer_group: str = "canopy"
    # Postgres schema this service owns (ARCHITECTURE §1 ownership rule).
    db_schema: str = "public"

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> ServiceSettings:
        if (
            self.env == "production"
            and self.auth.algorithm == "HS256"
            and self.auth.secret == DEFAULT_JWT_SECRET
        ):
            raise ValueError(
                "refusing to start with the default CANOPY_JWT_SECRET when CANOPY_ENV=production"
            )
        return self
