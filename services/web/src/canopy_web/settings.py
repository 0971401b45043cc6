"""Settings of the web client (``CANOPY_WEB_*``, plus ``CANOPY_ENV``, ``CANOPY_REDIS_*`` and
``CANOPY_JWT_*``): loaded once, in ``__main__``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from canopy_common.principal import TENANT_ID_PATTERN
from canopy_common.settings import DEFAULT_JWT_SECRET, AuthSettings, ProcessSettings, RedisSettings
from canopy_web.tokens import SigningKeyError, load_signing_key

HOUR_S = 3_600
# services/web/node_modules, where `make setup` installs the front-end packages (npm ci).
_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


class Settings(ProcessSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_WEB_", extra="ignore")

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
    # Production sign-in: the company's OpenID provider (docs/architecture.md §18).
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID provider's issuer URL (its discovery: "
        "<issuer>/.well-known/openid-configuration); unset: no company sign-in",
    )
    oidc_client_id: str = Field(default="", description="Client id registered with the provider")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="Client secret registered with the provider"
    )
    oidc_scopes: str = Field(
        default="openid email profile", description="Scopes asked for at sign-in"
    )
    # Every common provider (Entra, Okta, Google, Keycloak, Dex) can emit `email`; few agree
    # on a username claim.
    oidc_user_claim: str = Field(
        default="email",
        min_length=1,
        max_length=200,
        description="ID-token claim naming the Canopy person (a dotted path reads a nested one)",
    )
    oidc_email_domains: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Company e-mail domains: a claim address of one of them names the person "
        "by its lower-cased local part (first.last@acme.example: first.last); addresses of "
        "other domains are refused; empty: the claim's value is the person id; comma-separated",
    )
    oidc_tenant_claim: str = Field(
        default="",
        max_length=200,
        description="ID-token claim holding the tenant id; empty: CANOPY_WEB_TENANT",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="EC P-256 private key (PEM) signing the services' tokens ES256, published "
        "at /.well-known/jwks.json; unset: HS256 with CANOPY_JWT_SECRET (local only)",
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

    @field_validator("oidc_email_domains", mode="before")
    @classmethod
    def _domains(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        given = {
            "CANOPY_WEB_OIDC_ISSUER": bool(self.oidc_issuer),
            "CANOPY_WEB_OIDC_CLIENT_ID": bool(self.oidc_client_id),
            "CANOPY_WEB_OIDC_CLIENT_SECRET": self.oidc_client_secret is not None,
        }
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, set_ in given.items() if not set_)
            raise ValueError(f"OpenID Connect sign-in needs {missing} as well")
        return self

    @property
    def oidc_configured(self) -> bool:
        """Whether people may sign in through the company's OpenID provider."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever people reach the client over https (RFC 6265 §4.1.2.5);
        http is allowed on localhost only, where browsers treat it as a secure context."""
        return urlsplit(self.public_url).scheme == "https"

    def production_errors(self) -> list[str]:
        """Why these settings may not run in production (empty when they may): people sign in
        through the company's OpenID provider only, over https, and the services' tokens are
        signed with the web client's own key, never a shared secret."""
        errors = []
        if not self.oidc_configured:
            errors.append(
                "CANOPY_WEB_OIDC_ISSUER, CANOPY_WEB_OIDC_CLIENT_ID and "
                "CANOPY_WEB_OIDC_CLIENT_SECRET must be set when CANOPY_ENV=production"
            )
        elif not str(self.oidc_issuer).startswith("https://"):
            errors.append(f"CANOPY_WEB_OIDC_ISSUER must be https in production: {self.oidc_issuer}")
        if self.signing_key_file is None:
            errors.append(
                "CANOPY_WEB_SIGNING_KEY_FILE must be set when CANOPY_ENV=production (the "
                "services verify the web client's ES256 tokens with its public key)"
            )
        else:
            try:
                load_signing_key(self.signing_key_file)
            except SigningKeyError as exc:
                errors.append(f"CANOPY_WEB_SIGNING_KEY_FILE: {exc}")
        if "secret" in self.auth.model_fields_set or self.auth.secret != DEFAULT_JWT_SECRET:
            errors.append(
                "CANOPY_JWT_SECRET must not be set when CANOPY_ENV=production (a shared secret "
                "could mint tokens for anyone)"
            )
        if self.dev_sign_in:
            errors.append("CANOPY_WEB_DEV_SIGN_IN must be false when CANOPY_ENV=production")
        if not self.secure_cookies:
            errors.append(f"CANOPY_WEB_PUBLIC_URL must be https in production: {self.public_url}")
        return errors
