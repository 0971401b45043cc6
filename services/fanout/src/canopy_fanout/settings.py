"""Settings of the fanout service (`CANOPY_FANOUT_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from canopy_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_FANOUT_", extra="ignore")

    service_name: str = "fanout"
    port: int = 8002
    consumer_group: str = "canopy-fanout"
    db_schema: str = "fanout"
