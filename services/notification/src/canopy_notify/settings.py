"""Settings of the notification service (`CANOPY_NOTIFY_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from canopy_common.settings import ServiceSettings

HOUR_S = 3_600


class SmtpSettings(BaseSettings):
    """The SMTP server emails go out through (``CANOPY_SMTP_*``)."""

    model_config = SettingsConfigDict(env_prefix="CANOPY_SMTP_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="SMTP server host")
    port: int = Field(default=1025, ge=1, le=65_535, description="SMTP server port")
    username: str | None = Field(default=None, description="SMTP user (None: no login)")
    password: str | None = Field(default=None, description="SMTP password")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS")
    use_tls: bool = Field(default=False, description="Connect over implicit TLS (port 465)")
    sender: str = Field(
        default="Canopy <notifications@canopy.localhost>", description="The From of every email"
    )
    timeout_s: float = Field(default=10.0, gt=0, description="SMTP connect and command timeout")


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_NOTIFY_", extra="ignore")

    service_name: str = "notify"
    port: int = 8003
    consumer_group: str = "canopy-notify"
    db_schema: str = "notify"

    # 12 h: a morning's reactions read as one line by the afternoon, a new day starts anew.
    group_window_s: int = Field(
        default=12 * HOUR_S, ge=1, description="Window within which like notifications group"
    )
    group_actors: int = Field(
        default=8, ge=1, description="Latest actors a grouped notification shows"
    )
    reminder_leads_s: list[int] = Field(
        default=[24 * HOUR_S, HOUR_S],
        description="Task due reminders: seconds before the due time (tenant default)",
    )
    # Half a working day: colleagues who follow the question have had their chance first.
    question_routing_delay_s: int = Field(
        default=4 * HOUR_S,
        ge=0,
        le=30 * 24 * HOUR_S,
        description="Unanswered this long, a question notifies likely answerers; 0: never "
        "(tenant default)",
    )
    reminder_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="How often due reminders, routed questions and deliveries are looked for",
    )
    # Long enough to read it in the app when they are there, short enough to reach them soon.
    delivery_grace_s: float = Field(
        default=120.0, ge=0, description="Offline this long after a notification: email/push it"
    )
    keepalive_s: float = Field(
        default=15.0, gt=0, description="Live stream keep-alive comment interval"
    )
    replay_limit: int = Field(
        default=500, ge=1, description="Most events a reconnecting stream replays"
    )
    default_page_size: int = Field(default=20, ge=1, description="Notifications per page")
    max_page_size: int = Field(default=100, ge=1, le=1000, description="Largest notifications page")
    public_url: str = Field(
        default="http://127.0.0.1:8080", description="Where links in emails point (the web app)"
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
