"""The Kafka security settings and the one function every client takes them from (no broker:
integration/test_kafka_security.py runs them against a SASL_SSL one)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from pydantic import SecretStr, ValidationError

from canopy_common.kafka_security import client_security
from canopy_common.settings import KafkaSettings


@pytest.fixture
def ca(tmp_path: Path) -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def test_plaintext_by_default_adds_nothing_but_the_protocol() -> None:
    assert client_security(KafkaSettings()) == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_gives_a_verifying_context_and_the_scram_credentials(ca_file: Path) -> None:
    settings = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="canopy",
        sasl_password=SecretStr("s3cret-pw"),
        ssl_cafile=ca_file,
    )

    options = client_security(settings)

    context = options.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert len(context.get_ca_certs()) == 1  # the CA file's, not the system's
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "canopy",
        "sasl_plain_password": "s3cret-pw",
    }
    assert "s3cret-pw" not in repr(settings)


def test_settings_come_from_canopy_kafka_variables(
    ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANOPY_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("CANOPY_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("CANOPY_KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("CANOPY_KAFKA_SASL_PASSWORD", "from-env")

    options = client_security(KafkaSettings())

    assert options == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "svc",
        "sasl_plain_password": "from-env",
    }


def test_ssl_presents_the_client_certificate_and_may_skip_the_hostname(
    ca: trustme.CA, ca_file: Path, tmp_path: Path
) -> None:
    client = ca.issue_cert("canopy-client")
    chain, key = tmp_path / "client.pem", tmp_path / "client.key"
    client.cert_chain_pems[0].write_to_path(str(chain))
    client.private_key_pem.write_to_path(str(key))

    options = client_security(
        KafkaSettings(
            security_protocol="SSL",
            ssl_cafile=ca_file,
            ssl_certfile=chain,
            ssl_keyfile=key,
            ssl_check_hostname=False,
        )
    )

    assert options["security_protocol"] == "SSL"
    assert options["ssl_context"].check_hostname is False
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert "sasl_mechanism" not in options


def test_a_key_that_does_not_match_the_certificate_fails_naming_the_files(
    ca: trustme.CA, ca_file: Path, tmp_path: Path
) -> None:
    chain, key = tmp_path / "client.pem", tmp_path / "other.key"
    ca.issue_cert("canopy-client").cert_chain_pems[0].write_to_path(str(chain))
    ca.issue_cert("someone-else").private_key_pem.write_to_path(str(key))
    settings = KafkaSettings(
        security_protocol="SSL", ssl_cafile=ca_file, ssl_certfile=chain, ssl_keyfile=key
    )

    with pytest.raises(ValueError, match=r"CANOPY_KAFKA_SSL_KEYFILE=.*other\.key"):
        client_security(settings)


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        (
            {"security_protocol": "SASL_SSL", "sasl_username": "canopy"},
            "SASL_SSL needs CANOPY_KAFKA_SASL_USERNAME and CANOPY_KAFKA_SASL_PASSWORD",
        ),
        (
            {"security_protocol": "SASL_PLAINTEXT", "sasl_password": "pw"},
            "SASL_PLAINTEXT needs CANOPY_KAFKA_SASL_USERNAME",
        ),
        (
            {"security_protocol": "SSL", "sasl_username": "canopy", "sasl_password": "pw"},
            "SSL sends no SASL credentials",
        ),
        ({"sasl_username": "canopy"}, "PLAINTEXT sends no SASL credentials"),
        ({"ssl_check_hostname": True, "ssl_key_password": "pw"}, "PLAINTEXT uses no TLS"),
    ],
)
def test_incomplete_or_unused_security_settings_are_refused_at_start(
    given: dict[str, str], refusal: str
) -> None:
    with pytest.raises(ValidationError, match=refusal):
        KafkaSettings.model_validate(given)


def test_a_tls_file_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ssl_cafile"):
        KafkaSettings(security_protocol="SSL", ssl_cafile=tmp_path / "missing.pem")


def test_a_key_without_its_certificate_is_refused(ca_file: Path) -> None:
    with pytest.raises(ValidationError, match="need CANOPY_KAFKA_SSL_CERTFILE"):
        KafkaSettings(security_protocol="SSL", ssl_cafile=ca_file, ssl_keyfile=ca_file)


def test_tls_without_a_ca_file_needs_the_system_trust_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL's default locations, as the variables that override them point them.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with pytest.raises(ValidationError, match="SSL needs CANOPY_KAFKA_SSL_CAFILE"):
        KafkaSettings(security_protocol="SSL")

    (tmp_path / "ca.pem").write_text(trustme.CA().cert_pem.bytes().decode())
    assert KafkaSettings(security_protocol="SSL").security_protocol == "SSL"
