"""Fixtures for the canopy_common integration tests."""

from __future__ import annotations

import os

import pytest

from canopy_common.settings import KafkaSettings


@pytest.fixture(scope="session")
def kafka_settings(request: pytest.FixtureRequest) -> KafkaSettings:
    """Settings for the session's broker, with 2 partitions per topic to keep tests quick.

    The broker is the ``stack`` fixture's when the Canopy pytest plugin is loaded, otherwise
    ``CANOPY_KAFKA_BOOTSTRAP_SERVERS`` (default: the local Tansu on 127.0.0.1:9092).
    """
    try:
        stack = request.getfixturevalue("stack")
    except pytest.FixtureLookupError:
        bootstrap = os.environ.get("CANOPY_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    else:
        bootstrap = stack.kafka_bootstrap
    return KafkaSettings(bootstrap_servers=bootstrap, partitions=2)
