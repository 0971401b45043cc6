"""Settings of the notification service (`CANOPY_NOTIFY_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from canopy_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_NOTIFY_", extra="ignore")

    service_name: str = "notify"
    port: int = 8003
    consumer_group: str = "canopy-notify"
    db_schema: str = "notify"
