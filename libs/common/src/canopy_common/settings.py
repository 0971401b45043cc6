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
    topic_audit: str = _setting(
        "canopy.audit.v1", "Topic: audit entries of actions outside ingestion, which records them"
    )
    topic_exports: str = _setting(
        "canopy.exports.v1", "Topic: requests for a person's data export (GDPR), from ingestion"
    )
    topic_export_parts: str = _setting(
        "canopy.export-parts.v1", "Topic: each service's section of a data export, to ingestion"
    )
    topic_question_experts: str = _setting(
        "canopy.question-experts.v1",
        "Topic: likely answerers of each new question, from analytics to notify",
    )

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
            self.topic_audit,
            self.topic_exports,
            self.topic_export_parts,
            self.topic_question_experts,
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
    # Postgres's default (4) prices a random page read for spinning disks. Canopy's working
    # set lives in memory, where an index probe costs about what a sequential read does; at
    # 4 the planner scanned every person of a tenant to find a post's 100 followers (fanout's
    # audience query: 2.1 ms instead of 0.6 ms, make bench).
    random_page_cost: float = _setting(
        1.1, "The planner's random_page_cost on Canopy's connections", gt=0
    )
    count_statements: bool = _setting(
        False, "Count SQL statements per HTTP route (`db_statements_total`); the benchmarks do"
    )


class RedisSettings(BaseSettings):
    """Redis connection (``CANOPY_REDIS_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_REDIS_", extra="ignore")

    url: str = _setting("redis://127.0.0.1:6379/0", "Redis URL")
    max_connections: int = _setting(50, "Most Redis connections per service process", ge=1)


class RateLimitSettings(BaseSettings):
    """Request budgets per person and per tenant, by route class (``CANOPY_RATE_LIMIT_*``).

    One set for every service: a person's ``reads`` budget is shared by every service's reads
    (docs/architecture.md §8). Budgets count requests per ``window_s``; ``streams`` counts open
    live streams (SSE) at once. The defaults are far above what a person does by hand, so
    only scripts and runaway clients meet them.
    """

    model_config = SettingsConfigDict(env_prefix="CANOPY_RATE_LIMIT_", extra="ignore")

    enabled: bool = _setting(True, "Enforce the per-person and per-tenant request budgets")
    window_s: int = _setting(60, "Length of a budget's window in seconds", ge=1, le=3600)
    # Per person: a person clicking reads a few pages a minute; a client polling or a script
    # is what these stop. Writes cost a transaction and a fan-out each, hence the lower budget.
    writes_per_person: int = _setting(1_200, "Writes (POST/PUT/PATCH/DELETE) per person", ge=1)
    reads_per_person: int = _setting(6_000, "Reads (GET) per person per window", ge=1)
    search_per_person: int = _setting(600, "Searches (people, posts, groups) per person", ge=1)
    analytics_per_person: int = _setting(600, "Analytics and discovery reads per person", ge=1)
    streams_per_person: int = _setting(10, "Live streams (SSE) one person holds open at once", ge=1)
    # Per tenant: the ceiling that keeps one tenant from starving the others on shared servers.
    writes_per_tenant: int = _setting(60_000, "Writes per tenant per window", ge=1)
    reads_per_tenant: int = _setting(300_000, "Reads per tenant per window", ge=1)
    search_per_tenant: int = _setting(30_000, "Searches (people, posts, groups) per tenant", ge=1)
    analytics_per_tenant: int = _setting(30_000, "Analytics reads per tenant per window", ge=1)
    streams_per_tenant: int = _setting(20_000, "Live streams open at once per tenant", ge=1)


class AuthSettings(BaseSettings):
    """JWT verification (``CANOPY_JWT_*``).

    HS256 with ``secret`` is for local runs and tests only. RS256/ES256 take the identity
    provider's public keys from ``jwks_url`` when set, else from the ``jwks_uri`` of its OpenID
    configuration: ``discovery_url``, or ``<issuer>/.well-known/openid-configuration`` when the
    issuer is a URL (OpenID Connect Discovery 1.0 §4).
    """

    model_config = SettingsConfigDict(env_prefix="CANOPY_JWT_", extra="ignore")

    secret: str = _setting(
        DEFAULT_JWT_SECRET, "HS256 secret, at least 32 bytes; must be unset in production"
    )
    issuer: str = _setting("canopy", "Required `iss` of tokens (a URL: its OIDC discovery is used)")
    audience: str = _setting("canopy", "Required `aud` of tokens")
    # Pinned, never read from the token.
    algorithm: Literal["HS256", "RS256", "ES256"] = _setting(
        "HS256", "Token algorithm: HS256 (secret, not in production) or RS256/ES256 (public keys)"
    )
    jwks_url: str | None = _setting(
        None, "JWKS URL of the identity provider (RS256/ES256); unset: from OIDC discovery"
    )
    discovery_url: str | None = _setting(
        None, "OpenID configuration URL; unset: <issuer>/.well-known/openid-configuration"
    )
    # A rotated key shows as an unknown key id: the key set is fetched again at most this
    # often for such tokens, so random key ids cannot make us hammer the identity provider.
    jwks_refresh_cooldown_s: float = _setting(
        30.0, "Least time between two key-set fetches caused by unknown key ids", ge=0
    )
    # Tokens from common identity providers are 1-2 KiB; 8 KiB leaves room for many claims
    # and refuses a huge header before it is parsed (uvicorn with httptools has no header limit
    # of its own, so every oversized token reaches this check).
    max_token_bytes: int = _setting(
        8 * 1024, "Largest bearer token in bytes; longer ones get 401", ge=1024, le=32 * 1024
    )
    leeway_s: int = _setting(30, "Clock skew allowed on exp/nbf/iat", ge=0)
    # Identity providers name these claims their own way (Entra: `roles`, Keycloak:
    # `realm_access.roles`, Auth0: a namespaced URL): the claim as named, else a dotted path.
    tenant_claim: str = _setting(
        "tenant",
        "Claim holding the tenant id (a dotted path such as `org.tenant` reads a nested one)",
        min_length=1,
        max_length=200,
    )
    roles_claim: str = _setting(
        "roles",
        "Claim holding the role names, a list; names Canopy does not know are ignored "
        "(a dotted path such as `realm_access.roles` reads a nested one)",
        min_length=1,
        max_length=200,
    )
    local_token_ttl_s: int = _setting(8 * 3600, "Lifetime of tokens from `make token`", ge=60)

    @property
    def discovery_endpoint(self) -> str | None:
        """Where the OpenID configuration is read: ``discovery_url``, else derived from an
        issuer that is an http(s) URL; None for a plain issuer name."""
        if self.discovery_url:
            return self.discovery_url
        if self.issuer.startswith(("https://", "http://")):
            return self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        return None

    @model_validator(mode="after")
    def _key_fits_algorithm(self) -> AuthSettings:
        if self.algorithm == "HS256" and len(self.secret.encode()) < 32:
            raise ValueError("CANOPY_JWT_SECRET must be at least 32 bytes (RFC 7518 §3.2)")
        if self.algorithm != "HS256" and not self.jwks_url and not self.discovery_endpoint:
            raise ValueError(
                f"CANOPY_JWT_ALGORITHM={self.algorithm} needs the identity provider's keys: "
                "CANOPY_JWT_JWKS_URL, CANOPY_JWT_DISCOVERY_URL, or a URL as CANOPY_JWT_ISSUER"
            )
        return self

    def production_errors(self) -> list[str]:
        """Why these settings may not run in production (empty when they may).

        Production verifies only the identity provider's signatures: a symmetric secret can
        mint tokens as well as check them, and every service holding it could forge any caller.
        """
        errors = []
        if self.algorithm == "HS256":
            errors.append(
                "CANOPY_JWT_ALGORITHM=HS256 is refused when CANOPY_ENV=production: use RS256 or "
                "ES256 with the identity provider's keys"
            )
        if "secret" in self.model_fields_set or self.secret != DEFAULT_JWT_SECRET:
            errors.append(
                "CANOPY_JWT_SECRET must not be set when CANOPY_ENV=production (symmetric keys "
                "are refused)"
            )
        for name, url in (
            ("CANOPY_JWT_JWKS_URL", self.jwks_url),
            ("CANOPY_JWT_DISCOVERY_URL", None if self.jwks_url else self.discovery_endpoint),
        ):
            if url and not url.startswith("https://"):
                errors.append(f"{name} must be https when CANOPY_ENV=production: {url}")
        return errors


class ProcessSettings(BaseSettings):
    """What every Canopy process reads under the same names whatever its own prefix: where it
    runs (``CANOPY_ENV``) and how it logs (``CANOPY_LOG_*``). Base of :class:`ServiceSettings`
    and of the web client's settings."""

    model_config = SettingsConfigDict(extra="ignore")

    env: Literal["local", "test", "production"] = Field(
        default="local",
        validation_alias="CANOPY_ENV",
        description="local, test or production (production refuses HS256 and a JWT secret)",
    )
    log_level: str = Field(
        default="INFO", validation_alias="CANOPY_LOG_LEVEL", description="Log level"
    )
    log_json: bool = Field(
        default=True,
        validation_alias="CANOPY_LOG_JSON",
        description="JSON log lines (false: human-readable console)",
    )


class ServiceSettings(ProcessSettings):
    """Base of every service's settings: its HTTP address plus the shared groups above.

    Subclasses set ``model_config = SettingsConfigDict(env_prefix="CANOPY_<SVC>_")`` and the
    defaults of ``service_name``, ``port`` and ``consumer_group``.
    """

    model_config = SettingsConfigDict(env_prefix="CANOPY_SERVICE_", extra="ignore")

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
    # docs/architecture.md §8: every request checks that its caller is an active person; the
    # answer is kept this long so a request costs no extra round trip. A change applied by
    # this process's own consumer drops it at once; an `api` process without consumers may
    # let an erased person through for at most this long.
    member_cache_s: float = _setting(
        5.0, "Seconds a caller's standing (active, erased, unknown) is cached; 0: never", ge=0
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)

    @model_validator(mode="after")
    def _production_auth(self) -> ServiceSettings:
        if self.env == "production" and (errors := self.auth.production_errors()):
            raise ValueError("; ".join(errors))
        return self
