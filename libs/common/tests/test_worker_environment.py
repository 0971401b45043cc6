"""The environment a test gives the worker processes it starts: they load the test's settings."""

from __future__ import annotations

import os

import pytest
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from canopy_common.settings import KafkaSettings, PostgresSettings, ServiceSettings
from canopy_testing.workers import settings_environment


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_EXAMPLE_", extra="ignore")

    port: int = 8009
    flush_s: float = 1.0
    leads_s: list[int] = Field(default_factory=lambda: [3600])


def test_a_service_loads_the_settings_it_was_given_from_their_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    given = ExampleSettings(
        port=9001,
        db_schema="example_1",
        consumer_group="test-example-1",
        flush_s=0.2,
        leads_s=[60, 600],
        kafka=KafkaSettings(partitions=4, topic_activities="test.activities.1", client_id="w0"),
        postgres=PostgresSettings(dsn="postgresql://tester@db.example:5433/canopy_test"),
    ).model_copy(update={"env": "test", "log_json": False})  # read from CANOPY_ENV, CANOPY_LOG_JSON
    for name in [n for n in os.environ if n.startswith("CANOPY_")]:
        monkeypatch.delenv(name)
    for name, value in settings_environment(given).items():
        monkeypatch.setenv(name, value)

    assert ExampleSettings() == given
