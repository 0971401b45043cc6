"""Settings of the web client (``CANOPY_WEB_*``, plus ``CANOPY_ENV``, ``CANOPY_REDIS_*`` and
``CANOPY_JWT_*``): loaded once, in ``__main__``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from canopy_common.principal import TENANT_ID_PATTERN
from canopy_common.settings import AuthSettings, RedisSettings

HOUR_S = 3_600
# services/web/node_modules, where `make setup` installs the front-end packages (npm ci).
_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_WEB_", extra="ignore")

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
    service_name: str = Field(default="web", description="Name in logs and metric names")
    host: str = Field(default="127.0.0.1", description="HTTP listen address")
    port: int = Field(default=8080, ge=1, le=65_535, description="HTTP port")
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="The address people open (sign-in redirects; cookies are Secure when https)",
    )
    # One web client serves one company: its people sign in to this tenant.
    tenant: str = Field(
        default="acme", pattern=TENANT_ID_PATTERN, description="The tenant people sign in to"
    )
    ingestion_url: str = Field(
        default="http://127.0.0.1:8001", description="Base URL of the ingestion service's API"
    )
    fanout_url: str = Field(
        default="http://127.0.0.1:8002", description="Base URL of the fanout service's API"
    )
    notify_url: str = Field(
        default="http://127.0.0.1:8003", description="Base URL of the notification service's API"
    )
    analytics_url: str = Field(
        default="http://127.0.0.1:8004", description="Base URL of the analytics service's API"
    )
    # A page waits this long for a service before it says the service is unavailable.
    api_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of each API call")
    # A working day: people sign in once in the morning; idle longer and they sign in again.
    session_idle_s: int = Field(
        default=8 * HOUR_S, ge=60, description="A session unused this long ends"
    )
    session_max_s: int = Field(
        default=7 * 24 * HOUR_S, ge=60, description="A session ends this long after sign-in"
    )
    # Short: the token travels to four services; a new one is minted from the session.
    token_ttl_s: int = Field(
        default=300, ge=60, le=3_600, description="Lifetime of the tokens sent to the services"
    )
    # Under the 30-60 s at which proxies and load balancers drop a silent connection.
    live_keepalive_s: float = Field(
        default=15.0, gt=0, description="Live stream (/live): keep-alive and session check interval"
    )
    # A new post need not show within seconds: the banner only invites a reload.
    live_feed_check_s: float = Field(
        default=15.0,
        gt=0,
        description="Live stream (/live): how often the home feed's head is read",
    )
    dev_sign_in: bool = Field(
        default=True,
        description="Offer /auth/dev (sign in as anyone, no password); refused in production",
    )
    dev_people: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Local sign-in lists the directory as the first of these people "
        "(`make up`: the demo's guide); comma-separated",
    )
    assets_dir: Path = Field(
        default=_NODE_MODULES, description="Where `make setup` put the npm packages served"
    )
    redis: RedisSettings = Field(default_factory=RedisSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @field_validator("dev_people", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever people reach the client over https (RFC 6265 §4.1.2.5);
        http is allowed on localhost only, where browsers treat it as a secure context."""
        return urlsplit(self.public_url).scheme == "https"

    def production_errors(self) -> list[str]:
        """Why these settings may not run in production (empty when they may)."""
        errors = self.auth.production_errors()
        if self.dev_sign_in:
            errors.append("CANOPY_WEB_DEV_SIGN_IN must be false when CANOPY_ENV=production")
        if not self.secure_cookies:
            errors.append(f"CANOPY_WEB_PUBLIC_URL must be https in production: {self.public_url}")
        return errors
