"""A SASL_SSL listener for a test's own Kafka: a CA, certificates and SCRAM users made by the
test, the broker properties that use them, and the client settings that reach it.

:class:`canopy_testing.kafka_cluster.KafkaCluster` takes a :class:`SaslSsl` to run its nodes
with it (docs/kafka.md, "Kafka security"). The controller listener stays PLAINTEXT on the
loopback interface; clients and the brokers among themselves speak SASL_SSL.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import trustme
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from canopy_common.settings import KafkaSettings

LISTENER = "SASL_SSL"
BROKER_USER = "canopy-broker"


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files under a folder: the CA's certificate, the brokers' key and chain in one
    file (Kafka's PEM keystore), and a client certificate with its key for mutual TLS."""

    ca: Path
    broker: Path
    client_cert: Path
    client_key: Path


@dataclass(frozen=True)
class SaslSsl:
    """Clients authenticate with SCRAM over TLS; the brokers' certificate names ``host``.

    ``client_certificate`` also requires mutual TLS (``ssl.client.auth=required``): a client
    must present a certificate of the test's CA as well as its password.
    """

    username: str = "canopy"
    password: SecretStr = field(default_factory=lambda: SecretStr(secrets.token_hex(16)))
    mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    client_certificate: bool = False
    # The brokers' own user, for their connections to each other over the same listener.
    _broker_password: str = field(
        init=False, repr=False, default_factory=lambda: secrets.token_hex(16)
    )

    def write_files(self, folder: Path, host: str) -> TlsFiles:
        """Make a new CA and certificates signed by it for ``host`` (the brokers) and for a
        client, as PEM files in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        broker = ca.issue_cert(host, "localhost")
        client = ca.issue_cert(f"{self.username}-client")
        files = TlsFiles(
            folder / "ca.pem", folder / "broker.pem", folder / "client.pem", folder / "client.key"
        )
        ca.cert_pem.write_to_path(str(files.ca))
        chain = b"".join(blob.bytes() for blob in broker.cert_chain_pems)
        files.broker.write_bytes(_pkcs8(broker.private_key_pem.bytes()) + chain)
        client.cert_chain_pems[0].write_to_path(str(files.client_cert))
        client.private_key_pem.write_to_path(str(files.client_key))
        for path in (files.broker, files.client_key):
            path.chmod(0o600)
        return files

    def scram_users(self) -> list[str]:
        """The users to create when formatting, as ``kafka-storage format --add-scram`` takes
        them."""
        return [
            f"{self.mechanism}=[name={BROKER_USER},password={self._broker_password}]",
            f"{self.mechanism}=[name={self.username},password={self.password.get_secret_value()}]",
        ]

    def broker_properties(
        self, files: TlsFiles, *, host: str, broker_port: int, controller_port: int
    ) -> dict[str, str]:
        """A node's properties for a SASL_SSL listener on ``broker_port`` (replacing the
        PLAINTEXT one) and the PLAINTEXT controller listener on ``controller_port``."""
        prefix = f"listener.name.{LISTENER.lower()}.{self.mechanism.lower()}"
        return {
            "listeners": f"{LISTENER}://{host}:{broker_port},CONTROLLER://{host}:{controller_port}",
            "advertised.listeners": f"{LISTENER}://{host}:{broker_port}",
            "inter.broker.listener.name": LISTENER,
            "listener.security.protocol.map": f"{LISTENER}:{LISTENER},CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": self.mechanism,
            "sasl.mechanism.inter.broker.protocol": self.mechanism,
            f"{prefix}.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{BROKER_USER}" password="{self._broker_password}";'
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(files.broker),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(files.ca),
            # Listener-prefixed: on a SASL_SSL listener the broker-wide ssl.client.auth is
            # ignored (KIP-684).
            f"listener.name.{LISTENER.lower()}.ssl.client.auth": (
                "required" if self.client_certificate else "none"
            ),
        }

    def client_settings(self, files: TlsFiles, bootstrap: str, **more: Any) -> KafkaSettings:
        """Canopy's settings for a client of this listener (``more``: any other settings)."""
        options: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "security_protocol": LISTENER,
            "sasl_mechanism": self.mechanism,
            "sasl_username": self.username,
            "sasl_password": self.password,
            "ssl_cafile": files.ca,
        }
        if self.client_certificate:
            options |= {"ssl_certfile": files.client_cert, "ssl_keyfile": files.client_key}
        return KafkaSettings(**(options | more))


def _pkcs8(key_pem: bytes) -> bytes:
    """A PEM key in PKCS#8, the only form Kafka's PEM keystore reads."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
