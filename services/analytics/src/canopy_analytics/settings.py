"""Settings of the analytics service (`CANOPY_ANALYTICS_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from canopy_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_ANALYTICS_", extra="ignore")

    service_name: str = "analytics"
    port: int = 8004
    consumer_group: str = "canopy-analytics"
    db_schema: str = "analytics"
