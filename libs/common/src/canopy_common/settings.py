"""Settings shared by every Canopy service, read from ``CANOPY_*`` environment variables.

Each group of settings has its own prefix so the same variable configures every service
(``CANOPY_PG_DSN`` points all four at one Postgres). A service's own settings subclass
:class:`ServiceSettings` with the prefix ``CANOPY_<SVC>_``.
"""

from __future__ import annotations

import os
import ssl
from typing import Any, Literal

from pydantic import Field, FilePath, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "canopy-local-development-secret-change-me"

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]
TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})


def _setting(default: Any, description: str, **constraints: Any) -> Any:
    """A field with the one-line description the README's settings table shows."""
    return Field(default=default, description=description, **constraints)


class KafkaSettings(BaseSettings):
    """Broker address, topic names and client behaviour (``CANOPY_KAFKA_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_KAFKA_", extra="ignore")

    bootstrap_servers: str = _setting("127.0.0.1:9092", "Kafka bootstrap servers (host:port,...)")
    # 12: enough consumers per service to scale out on a small cluster.
    partitions: int = _setting(12, "Partitions of each topic created at start", ge=1)
    replication_factor: int = _setting(1, "Replication factor of created topics", ge=1)
    # The broker keeps one sequence per producer and partition: a retried batch is neither
    # written twice nor reordered behind a later one (docs/kafka.md).
    enable_idempotence: bool = _setting(
        True, "Idempotent producer (acks=all always; needs a broker with InitProducerId)"
    )
    client_id: str = _setting("canopy", "Kafka client id prefix")
    request_timeout_ms: int = _setting(30_000, "Kafka request timeout", ge=1)
    max_retries: int = _setting(
        5, "Retries of a transient failure before its partition pauses and tries later", ge=0
    )
    retry_backoff_initial_ms: int = _setting(200, "First retry backoff (doubles each time)", ge=1)
    retry_backoff_max_ms: int = _setting(
        10_000, "Longest backoff, and the pause after retries run out", ge=1
    )
    max_batch_records: int = _setting(500, "Records fetched per poll", ge=1)
    # How long the broker may hold a fetch that finds nothing new; it answers as soon as a
    # record arrives anyway, so this only bounds how late an idle consumer notices a stop.
    fetch_max_wait_ms: int = _setting(100, "Longest wait of a fetch that finds nothing", ge=1)
    # aiokafka's defaults: a consumer silent for 10 s is presumed dead and its partitions move
    # to the group's other members. 6 s is the least a Kafka broker accepts.
    session_timeout_ms: int = _setting(10_000, "Consumer group session timeout", ge=6_000)
    heartbeat_interval_ms: int = _setting(3_000, "Consumer heartbeat interval", ge=100)

    # docs/kafka.md "Kafka security": every client (producer, consumers, admin, faust) takes
    # these through canopy_common.kafka_security.client_security.
    security_protocol: KafkaSecurityProtocol = _setting(
        "PLAINTEXT", "Kafka listener protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    sasl_mechanism: KafkaSaslMechanism = _setting(
        "SCRAM-SHA-512", "SASL mechanism: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (SASL_* only)"
    )
    sasl_username: str | None = _setting(None, "SASL user name (required by SASL_*)")
    sasl_password: SecretStr | None = _setting(None, "SASL password (required by SASL_*)")
    ssl_cafile: FilePath | None = _setting(
        None, "PEM file of the CAs that sign the brokers' certificates; unset: the system's"
    )
    ssl_certfile: FilePath | None = _setting(
        None, "PEM client certificate chain for mutual TLS (may hold the key too)"
    )
    ssl_keyfile: FilePath | None = _setting(None, "PEM private key of the client certificate")
    ssl_key_password: SecretStr | None = _setting(None, "Password of an encrypted client key")
    # Off only for brokers reached by an address their certificate does not name; the chain
    # is verified either way.
    ssl_check_hostname: bool = _setting(True, "Check that a broker's certificate names its host")

    topic_upstream: str = _setting("canopy.upstream.v1", "Topic: AS2 events from upstream systems")
    topic_activities: str = _setting("canopy.activities.v1", "Topic: canonical activities")
    topic_fanout_work: str = _setting("canopy.fanout.work.v1", "Topic: chunks of large fan-outs")
    topic_impressions: str = _setting("canopy.impressions.v1", "Topic: feed impressions")
    topic_deliveries: str = _setting("canopy.deliveries.v1", "Topic: outside-channel deliveries")
    topic_dlq: str = _setting("canopy.dlq.v1", "Topic: dead letters, with headers saying why")

    @model_validator(mode="after")
    def _security_is_complete(self) -> KafkaSettings:
        tls = self.security_protocol in TLS_PROTOCOLS
        sasl = self.security_protocol in SASL_PROTOCOLS
        protocol = f"CANOPY_KAFKA_SECURITY_PROTOCOL={self.security_protocol}"
        if sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                f"{protocol} needs CANOPY_KAFKA_SASL_USERNAME and CANOPY_KAFKA_SASL_PASSWORD"
            )
        # Set but unused would mean a credential or a certificate the operator believes in
        # and the client never presents.
        if not sasl and (self.sasl_username or self.sasl_password):
            raise ValueError(
                f"{protocol} sends no SASL credentials: use SASL_SSL or SASL_PLAINTEXT, or "
                "unset CANOPY_KAFKA_SASL_USERNAME and CANOPY_KAFKA_SASL_PASSWORD"
            )
        tls_files = (self.ssl_cafile, self.ssl_certfile, self.ssl_keyfile, self.ssl_key_password)
        if not tls and any(v is not None for v in tls_files):
            raise ValueError(
                f"{protocol} uses no TLS: use SSL or SASL_SSL, or unset CANOPY_KAFKA_SSL_*"
            )
        if (self.ssl_keyfile or self.ssl_key_password) and not self.ssl_certfile:
            raise ValueError(
                "CANOPY_KAFKA_SSL_KEYFILE and _SSL_KEY_PASSWORD need CANOPY_KAFKA_SSL_CERTFILE"
            )
        if tls and self.ssl_cafile is None and not system_trust_store():
            raise ValueError(
                f"{protocol} needs CANOPY_KAFKA_SSL_CAFILE: this system has no CA certificates "
                "to verify the brokers with (no OpenSSL default CA file or folder)"
            )
        return self

    def all_topics(self) -> list[str]:
        """Every topic of docs/architecture.md §2, in a stable order."""
        return [
            self.topic_upstream,
            self.topic_activities,
            self.topic_fanout_work,
            self.topic_impressions,
            self.topic_deliveries,
            self.topic_dlq,
        ]


def system_trust_store() -> str | None:
    """Where OpenSSL finds the system's CA certificates (file or folder), or None when it finds
    none: then a TLS client has nothing to verify a broker with."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile and os.path.isfile(paths.cafile):
        return paths.cafile
    if paths.capath and os.path.isdir(paths.capath) and os.listdir(paths.capath):
        return paths.capath
    return None


class PostgresSettings(BaseSettings):
    """Postgres connection (``CANOPY_PG_*``); each service uses its own schema in it."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_PG_", extra="ignore")

    # The password is for a freshly installed Debian Postgres (md5 on 127.0.0.1); servers with
    # trust auth ignore it.
    dsn: str = _setting(
        "postgresql://postgres:postgres@127.0.0.1:5432/canopy", "Postgres DSN (database canopy)"
    )
    pool_min_size: int = _setting(1, "Connections each service keeps open", ge=0)
    pool_max_size: int = _setting(10, "Most connections per service process", ge=1)
    command_timeout_s: float = _setting(30.0, "Statement timeout on the client side", gt=0)


class RedisSettings(BaseSettings):
    """Redis connection (``CANOPY_REDIS_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_REDIS_", extra="ignore")

    url: str = _setting("redis://127.0.0.1:6379/0", "Redis URL")
    max_connections: int = _setting(50, "Most Redis connections per service process", ge=1)


class AuthSettings(BaseSettings):
    """JWT verification (``CANOPY_JWT_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_JWT_", extra="ignore")

    secret: str = _setting(
        DEFAULT_JWT_SECRET, "HS256 secret, at least 32 bytes; refused in production if default"
    )
    issuer: str = _setting("canopy", "Required `iss` of tokens")
    audience: str = _setting("canopy", "Required `aud` of tokens")
    # Pinned, never read from the token.
    algorithm: Literal["HS256", "RS256", "ES256"] = _setting(
        "HS256", "Token algorithm: HS256 (secret) or RS256/ES256 (JWKS)"
    )
    jwks_url: str | None = _setting(None, "JWKS URL of the identity provider (RS256/ES256)")
    leeway_s: int = _setting(30, "Clock skew allowed on exp/nbf/iat", ge=0)
    local_token_ttl_s: int = _setting(8 * 3600, "Lifetime of tokens from `make token`", ge=60)

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
        default="local",
        validation_alias="CANOPY_ENV",
        description="local, test or production (production refuses the default JWT secret)",
    )
    log_level: str = Field(
        default="INFO", validation_alias="CANOPY_LOG_LEVEL", description="Log level"
    )
    log_json: bool = Field(
        default=True,
        validation_alias="CANOPY_LOG_JSON",
        description="JSON log lines (false: human-readable console)",
    )

    service_name: str = _setting("canopy", "Name in logs and metric names")
    host: str = _setting("127.0.0.1", "HTTP listen address")
    port: int = _setting(8000, "HTTP port (api and all modes)")
    # So an API process and a worker process of one service can run side by side.
    worker_port: int | None = _setting(
        None, "HTTP port of `worker` mode (/healthz, /readyz, /metrics); default port + 100"
    )
    # One process serves HTTP on one core at most; more share the port (the first also runs
    # the consumers and workers in `all` mode). See canopy_common.http_processes.
    api_processes: int = _setting(1, "HTTP server processes (api and all modes)", ge=1)
    consumer_group: str = _setting("canopy", "Kafka consumer group")
    # docs/architecture.md §1: a service reads and writes only its own schema.
    db_schema: str = _setting("public", "Postgres schema the service owns")
    # docs/architecture.md §8 limits. 64 KiB holds a 10,000-character post many times over; anything
    # bigger is a mistake or abuse, refused before it is read into memory.
    max_body_bytes: int = _setting(
        64 * 1024, "Largest HTTP request body in bytes; larger ones get 413", ge=1
    )
    # No Canopy request nests deeper than a handful of levels; deep nesting only costs the
    # parser and the validators.
    max_json_depth: int = _setting(
        32, "Deepest nesting of a JSON request body; deeper ones get 422", ge=1
    )

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
