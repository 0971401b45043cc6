"""The faust-streaming app of the analytics stream, and how it lives inside the service process.

Embedding: a ``faust.App`` is a ``mode.Service``; ``await app.start()`` runs it on the running
loop (uvicorn's or the tests') without faust's ``Worker``, which would own the loop, install
signal handlers and configure logging. ``start`` returns once the consumer has joined its group
(and ``stop`` stops it: commit, leave the group, close). faust runs its Kafka consumer in a
thread of its own, with its own loop, and everything else on the caller's loop. Each app keeps
its state to itself, so several (other groups or topics, or the same group) can run in one
process, as the tests do.

Settings (docs/kafka.md):

- ``at_least_once``: no transactions; correctness rests on idempotent handlers, as in every
  other consumer. faust's own producer sends nothing here (the DLQ goes through
  canopy_common's idempotent producer).
- no assignor leader topic (``topic_disable_leader``: nothing asks ``app.is_leader()``) and,
  with no tables and no standby replicas, aiokafka's round-robin assignor: no internal topics
  at all (the leader topic would be one topic per group for nothing).
- the group's session timeout and heartbeat from :class:`~canopy_common.settings.KafkaSettings`,
  as every other consumer of the service: a stopped worker's partitions move at once (it
  leaves the group), a killed one's after the session timeout.
- ``broker_credentials`` from :func:`canopy_common.kafka_security.client_security`, the one
  place every Kafka client of Canopy takes TLS and SASL from (docs/kafka.md).
- ``stream_wait_empty`` off: the stream stops its agents itself (see
  :mod:`canopy_analytics.stream`); faust's wait would hang on a batch stuck in an outage.
"""

from __future__ import annotations

import faust
from faust.auth import Credentials

from canopy_analytics.settings import Settings
from canopy_common.kafka_security import client_security
from canopy_common.settings import KafkaSettings


def broker_credentials(kafka: KafkaSettings) -> Credentials | None:
    """faust's form of :func:`client_security`: SASL credentials (with the TLS context under
    SASL_SSL), TLS credentials, or None for PLAINTEXT. faust hands them to each of its aiokafka
    clients as the same keyword arguments."""
    security = client_security(kafka)
    if "sasl_mechanism" in security:
        # faust picks SASL_SSL over SASL_PLAINTEXT by whether a context is given.
        return faust.SASLCredentials(
            username=security["sasl_plain_username"],
            password=security["sasl_plain_password"],
            mechanism=security["sasl_mechanism"],
            ssl_context=security.get("ssl_context"),
        )
    if "ssl_context" in security:
        return faust.SSLCredentials(security["ssl_context"])
    return None


def faust_app(settings: Settings, *, datadir: str) -> faust.App:
    """A faust app for the service's settings (see the module doc): its broker, consumer group
    (the app id) and timeouts, raw keys and values, no web server. ``datadir`` is where faust
    creates its directories at start, even with no tables."""
    kafka = settings.kafka
    servers = [s.strip() for s in kafka.bootstrap_servers.split(",") if s.strip()]
    return faust.App(
        settings.consumer_group,
        broker=[f"kafka://{server}" for server in servers],
        broker_client_id=f"{kafka.client_id}-{settings.service_name}",
        broker_credentials=broker_credentials(kafka),
        key_serializer="raw",
        value_serializer="raw",
        processing_guarantee="at_least_once",
        producer_acks=-1,  # acks=all, as canopy_common's producer
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=kafka.session_timeout_ms / 1000,
        broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
        # faust refuses a request timeout shorter than the session timeout.
        broker_request_timeout=max(kafka.request_timeout_ms, kafka.session_timeout_ms) / 1000,
        broker_max_poll_records=kafka.max_batch_records,
        broker_commit_interval=settings.stream_commit_interval_s,
        stream_wait_empty=False,
        topic_disable_leader=True,
        topic_partitions=kafka.partitions,
        topic_replication_factor=kafka.replication_factor,
        table_standby_replicas=0,
        web_enabled=False,
        datadir=datadir,
    )
