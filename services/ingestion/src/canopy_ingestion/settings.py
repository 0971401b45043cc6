"""Settings of the ingestion service (`CANOPY_INGESTION_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from canopy_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_INGESTION_", extra="ignore")

    service_name: str = "ingestion"
    port: int = 8001
    consumer_group: str = "canopy-ingestion"
    db_schema: str = "ingestion"
