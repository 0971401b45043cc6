"""Canopy's Kafka clients against a real broker that takes SASL_SSL only (SCRAM-SHA-512 and a
client certificate), configured through ``CANOPY_KAFKA_*`` and nothing else (docs/kafka.md,
"Kafka security")."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed
from pydantic import SecretStr

from canopy_common.kafka import ConsumedRecord, Consumer, Producer, ensure_topics
from canopy_common.settings import KafkaSettings
from canopy_testing.kafka_cluster import KafkaCluster

pytestmark = pytest.mark.integration

WAIT_S = 20.0
# A client that cannot get in fails fast instead of retrying for the default 30 s.
REFUSED_TIMEOUT_MS = 3_000


def environment_of(settings: KafkaSettings) -> dict[str, str]:
    """The ``CANOPY_KAFKA_*`` variables an operator would set for ``settings``."""
    values: dict[str, Any] = settings.model_dump(exclude_defaults=True)
    return {
        f"CANOPY_KAFKA_{name.upper()}": (
            value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        )
        for name, value in values.items()
    }


async def test_a_record_goes_through_sasl_ssl_with_settings_from_the_environment(
    sasl_ssl_kafka: KafkaCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment_of(sasl_ssl_kafka.client_settings(partitions=2)).items():
        monkeypatch.setenv(name, value)
    settings = KafkaSettings()
    assert settings.security_protocol == "SASL_SSL"
    assert settings.ssl_certfile is not None  # the broker requires mutual TLS
    suffix = uuid.uuid4().hex[:8]
    topic = f"test.secure.{suffix}"
    settings = settings.model_copy(update={"topic_dlq": f"test.secure.dlq.{suffix}"})
    assert sorted(await ensure_topics(settings, [topic, settings.topic_dlq])) == sorted(
        [topic, settings.topic_dlq]
    )
    received: asyncio.Queue[ConsumedRecord] = asyncio.Queue()

    async with Producer(settings) as producer:
        delivery = await producer.send(topic, {"hello": "over TLS"}, key="k1")
    consumer = Consumer(
        settings,
        service="security_test",
        group_id=f"test-secure-{suffix}",
        topics=[topic],
        handler=received.put,
    )
    async with consumer:
        async with asyncio.timeout(WAIT_S):
            record = await received.get()

    assert (record.topic, record.partition, record.offset) == (
        delivery.topic,
        delivery.partition,
        delivery.offset,
    )
    assert (record.key, record.value) == (b"k1", b'{"hello":"over TLS"}')


async def test_a_wrong_password_is_refused_and_the_log_says_so(
    sasl_ssl_kafka: KafkaCluster, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sasl_ssl_kafka.client_settings(
        sasl_password=SecretStr("not-the-password"), request_timeout_ms=REFUSED_TIMEOUT_MS
    )

    # aiokafka raises a bare "Unable to bootstrap" and logs the broker's reason: the line
    # an operator sees in the service's log (canopy_common.logging renders aiokafka's).
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        async with Producer(settings):
            pass
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        await ensure_topics(settings, ["test.secure.never"])

    refusals = [r.getMessage() for r in caplog.records if r.name.startswith("aiokafka")]
    assert len(refusals) == 2, refusals
    for message in refusals:
        assert SaslAuthenticationFailed.__name__ in message
        assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in message
        assert "not-the-password" not in message


def closed_connections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("aiokafka") and r.getMessage().endswith("closed")
    ]


async def test_a_client_without_tls_cannot_reach_the_sasl_ssl_listener(
    sasl_ssl_kafka: KafkaCluster, caplog: pytest.LogCaptureFixture
) -> None:
    plaintext = KafkaSettings(
        bootstrap_servers=sasl_ssl_kafka.bootstrap, request_timeout_ms=REFUSED_TIMEOUT_MS
    )

    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        async with Producer(plaintext):
            pass
    # The broker hangs up on a request that is not a TLS handshake.
    assert len(closed_connections(caplog)) == 1


async def test_tls_without_the_client_certificate_is_refused(
    sasl_ssl_kafka: KafkaCluster, caplog: pytest.LogCaptureFixture
) -> None:
    no_certificate = sasl_ssl_kafka.client_settings(
        ssl_certfile=None, ssl_keyfile=None, request_timeout_ms=REFUSED_TIMEOUT_MS
    )
    assert no_certificate.ssl_cafile is not None

    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        async with Producer(no_certificate):
            pass
    # The broker ends the handshake for want of a certificate (the same client with one gets
    # in: the first test).
    assert len(closed_connections(caplog)) == 1
