"""How every Kafka client of Canopy authenticates and encrypts: one function, one place.

The producer, the consumers, the admin client that creates topics, the test and benchmark
tools and analytics' faust app all pass :func:`client_security` to their client, so TLS and
SASL are configured once, by the ``CANOPY_KAFKA_*`` settings (docs/kafka.md, "Kafka
security"), and a client that forgets them cannot exist.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context

from canopy_common.settings import SASL_PROTOCOLS, TLS_PROTOCOLS, KafkaSettings


def client_ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context of an SSL or SASL_SSL client, None for the plaintext protocols.

    Verifies the broker's certificate against ``ssl_cafile`` (else the system's CAs) and, unless
    ``ssl_check_hostname`` is off, that it names the host connected to; presents
    ``ssl_certfile`` for mutual TLS. A missing, unreadable or mismatched file raises here, at
    start, with the file's name in the message.
    """
    if settings.security_protocol not in TLS_PROTOCOLS:
        return None
    password: str | None = None
    if settings.ssl_certfile is not None:
        # Empty rather than None: an encrypted key without its password fails here instead of
        # OpenSSL prompting on a terminal a service does not have.
        key_password = settings.ssl_key_password
        password = key_password.get_secret_value() if key_password is not None else ""
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.ssl_cafile,
            certfile=settings.ssl_certfile,
            keyfile=settings.ssl_keyfile,
            password=password,
        )
    except (OSError, ssl.SSLError) as exc:
        files = ", ".join(
            f"{name}={path}"
            for name, path in (
                ("CANOPY_KAFKA_SSL_CAFILE", settings.ssl_cafile),
                ("CANOPY_KAFKA_SSL_CERTFILE", settings.ssl_certfile),
                ("CANOPY_KAFKA_SSL_KEYFILE", settings.ssl_keyfile),
            )
            if path is not None
        )
        raise ValueError(f"cannot load the Kafka TLS files ({files or 'none'}): {exc}") from exc
    context.check_hostname = settings.ssl_check_hostname
    return context


def client_security(settings: KafkaSettings) -> dict[str, Any]:
    """The keyword arguments that secure an aiokafka client (``AIOKafkaProducer``,
    ``AIOKafkaConsumer``, ``AIOKafkaAdminClient``): ``security_protocol``, and as the protocol
    needs them ``ssl_context`` and ``sasl_mechanism``, ``sasl_plain_username``,
    ``sasl_plain_password``.

    The result holds the SASL password in clear, as aiokafka wants it: pass it to the client,
    never to a log line.
    """
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if (context := client_ssl_context(settings)) is not None:
        options["ssl_context"] = context
    if settings.security_protocol in SASL_PROTOCOLS:
        if settings.sasl_username is None or settings.sasl_password is None:
            # KafkaSettings refuses this at load; settings built with model_construct skip it.
            raise ValueError(f"{settings.security_protocol} needs a SASL user name and password")
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    return options
