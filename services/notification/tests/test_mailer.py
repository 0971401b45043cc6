"""The email sender against a real SMTP server (aiosmtpd, in a thread) and real Postgres: what
arrives, what is sent once, and which failures are retried, refused or dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from typing import Any

import asyncpg
import orjson
import pytest
import pytest_asyncio
from notify_harness import Notify, notify_settings, start_notify
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from smtp_harness import SENDER, SmtpServer
from smtp_harness import smtp_server as running_smtp_server

from canopy_common.consuming import ConsumedRecord
from canopy_common.db import apply_migrations, close_pool, create_pool, load_migrations
from canopy_common.errors import InvalidInput
from canopy_common.settings import KafkaSettings, PostgresSettings
from canopy_common.transient import TransientError, is_transient
from canopy_dev.devstack import StackEndpoints
from canopy_notify.mailer import Delivery, deliveries_handler, mailer_metrics, send_delivery
from canopy_notify.settings import Settings, SmtpSettings
from canopy_testing.http import free_port
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

PREFERENCES = "https://canopy.example/settings/notifications"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port, for one test."""
    with running_smtp_server() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pool(stack: StackEndpoints, pg_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """A pool working in a throwaway schema holding the notification service's tables."""
    schema = f"notify_mailer_{uuid.uuid4().hex[:10]}"
    await apply_migrations(pg_pool, schema=schema, migrations=load_migrations("canopy_notify"))
    pool = await create_pool(PostgresSettings(dsn=stack.pg_dsn, pool_max_size=2), schema=schema)
    try:
        yield pool
    finally:
        await close_pool(pool)
        await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def item_doc(n: int, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": n,
        "type": "mention",
        "text": f"Bob Smith mentioned you: “Launch is Friday” (#{n})",
        "url": f"http://127.0.0.1:8080/notifications/{n}",
        "created_at": f"2026-11-21T10:{n % 60:02d}:00+00:00",
        "urgent": False,
    }
    return doc | changes


def delivery_doc(tenant: str, *items: dict[str, Any], **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": f"dl:{tenant}:{uuid.uuid4().hex[:8]}",
        "tenant": tenant,
        "recipient": "u123",
        "channel": "email",
        "to": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "digest": None,
        "items": list(items) or [item_doc(42)],
        "created_at": "2026-11-21T10:02:00+00:00",
    }
    return doc | changes


def delivery(tenant: str, *items: dict[str, Any], **changes: Any) -> Delivery:
    return Delivery.decode(orjson.dumps(delivery_doc(tenant, *items, **changes)))


def counted(channel: str, outcome: str) -> float:
    labels = {"channel": channel, "outcome": outcome}
    return REGISTRY.get_sample_value("canopy_notify_deliveries_total", labels) or 0.0


async def was_recorded(pool: asyncpg.Pool, delivery_id: str) -> bool:
    found = await pool.fetchval("SELECT 1 FROM sent_deliveries WHERE delivery_id = $1", delivery_id)
    return found is not None


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


async def test_an_email_arrives_addressed_to_the_recipient_with_its_notification(
    smtp_server: SmtpServer, pool: asyncpg.Pool, tenant_id: str
) -> None:
    sent = delivery(tenant_id, to={"name": "Zoë Ægir", "email": "zoe@example.com"})
    before = counted("email", "sent")

    outcome = await send_delivery(
        sent,
        pool=pool,
        smtp=smtp_server.settings,
        metrics=mailer_metrics(),
        preferences_url=PREFERENCES,
    )

    assert outcome == "sent"
    [received] = smtp_server.mailbox.received
    assert received.mail_from == "notifications@canopy.example"
    assert received.rcpt_tos == ["zoe@example.com"]
    message = received.message
    assert message["To"].addresses[0].display_name == "Zoë Ægir"
    assert message["To"].addresses[0].addr_spec == "zoe@example.com"
    assert message["From"] == SENDER
    assert message["Subject"] == "Bob Smith mentioned you: “Launch is Friday” (#42)"
    assert message["List-Unsubscribe"] == f"<{PREFERENCES}>"
    assert sent.id.split(":")[1] in message["Message-ID"]
    assert "http://127.0.0.1:8080/notifications/42" in text_of(message, "plain")
    assert 'href="http://127.0.0.1:8080/notifications/42"' in text_of(message, "html")
    assert await was_recorded(pool, sent.id)
    assert counted("email", "sent") == before + 1


async def test_the_same_delivery_twice_is_sent_once(
    smtp_server: SmtpServer, pool: asyncpg.Pool, tenant_id: str
) -> None:
    sent = delivery(tenant_id)
    metrics = mailer_metrics()

    first = await send_delivery(sent, pool=pool, smtp=smtp_server.settings, metrics=metrics)
    again = await send_delivery(sent, pool=pool, smtp=smtp_server.settings, metrics=metrics)

    assert (first, again) == ("sent", "duplicate")
    assert len(smtp_server.mailbox.received) == 1


async def test_without_an_address_nothing_is_sent_and_nothing_retried(
    smtp_server: SmtpServer, pool: asyncpg.Pool, tenant_id: str
) -> None:
    unaddressed = delivery(tenant_id, to={"name": "Ada Lovelace", "email": None})
    before = counted("email", "no-address")

    outcome = await send_delivery(
        unaddressed, pool=pool, smtp=smtp_server.settings, metrics=mailer_metrics()
    )

    assert outcome == "no-address"
    assert smtp_server.mailbox.received == []
    assert not await was_recorded(pool, unaddressed.id)
    assert counted("email", "no-address") == before + 1


async def test_smtp_server_down_is_transient_and_nothing_is_recorded(
    pool: asyncpg.Pool, tenant_id: str
) -> None:
    nobody = SmtpSettings(host="127.0.0.1", port=free_port(), sender=SENDER, timeout_s=2.0)
    pending = delivery(tenant_id)
    before = counted("email", "retried")

    with pytest.raises(TransientError) as caught:
        await send_delivery(pending, pool=pool, smtp=nobody, metrics=mailer_metrics())

    assert is_transient(caught.value)  # the consumer pauses and retries, never dead-letters
    assert not await was_recorded(pool, pending.id)
    assert counted("email", "retried") == before + 1


async def test_an_smtp_server_that_never_answers_times_out_as_transient(
    pool: asyncpg.Pool, tenant_id: str
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the connection, never greets
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stuck = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, timeout_s=0.3)
    try:
        with pytest.raises(TransientError):
            await send_delivery(
                delivery(tenant_id), pool=pool, smtp=stuck, metrics=mailer_metrics()
            )
    finally:
        server.close()
        await server.wait_closed()


async def test_a_recipient_refused_for_good_is_refused_and_not_retried(
    smtp_server: SmtpServer, pool: asyncpg.Pool, tenant_id: str
) -> None:
    smtp_server.mailbox.answers["gone@example.com"] = "550 5.1.1 No such user"
    refused = delivery(tenant_id, to={"name": "Gone", "email": "gone@example.com"})

    outcome = await send_delivery(
        refused, pool=pool, smtp=smtp_server.settings, metrics=mailer_metrics()
    )

    assert outcome == "refused"
    assert smtp_server.mailbox.received == []
    assert not await was_recorded(pool, refused.id)


async def test_a_recipient_deferred_with_4xx_is_retried(
    smtp_server: SmtpServer, pool: asyncpg.Pool, tenant_id: str
) -> None:
    smtp_server.mailbox.answers["full@example.com"] = "452 4.2.2 Mailbox full, try later"
    deferred = delivery(tenant_id, to={"name": "Full", "email": "full@example.com"})

    with pytest.raises(TransientError, match="452"):
        await send_delivery(
            deferred, pool=pool, smtp=smtp_server.settings, metrics=mailer_metrics()
        )

    assert not await was_recorded(pool, deferred.id)


async def test_a_digest_arrives_as_one_email_listing_every_item(
    smtp_server: SmtpServer, pool: asyncpg.Pool, tenant_id: str
) -> None:
    items = [item_doc(n, text=f"note number {n}") for n in range(1, 6)]
    items[2] = item_doc(3, text="task due today", urgent=True)
    digest = delivery(tenant_id, *items, digest="daily")

    outcome = await send_delivery(
        digest, pool=pool, smtp=smtp_server.settings, metrics=mailer_metrics()
    )

    assert outcome == "sent"
    [received] = smtp_server.mailbox.received
    assert received.message["Subject"] == "Your daily Canopy digest: 5 notifications"
    plain = text_of(received.message, "plain")
    for n in range(1, 6):
        assert f"http://127.0.0.1:8080/notifications/{n}" in plain
    order = ["task due today", "note number 5", "note number 4", "note number 2", "note number 1"]
    positions = [plain.index(text) for text in order]
    assert positions == sorted(positions)


async def test_a_push_delivery_has_no_provider_and_sends_nothing(
    smtp_server: SmtpServer, pool: asyncpg.Pool, tenant_id: str
) -> None:
    push = delivery(tenant_id, channel="push")
    before = counted("push", "no-provider")

    outcome = await send_delivery(
        push, pool=pool, smtp=smtp_server.settings, metrics=mailer_metrics()
    )

    assert outcome == "no-provider"
    assert smtp_server.mailbox.received == []
    assert counted("push", "no-provider") == before + 1


def record(value: bytes) -> ConsumedRecord:
    return ConsumedRecord(
        topic="canopy.deliveries.v1",
        partition=0,
        offset=0,
        key=b"t:u123",
        value=value,
        headers={},
        timestamp=None,
    )


async def test_the_consumer_handler_sends_with_the_service_settings_and_rejects_bad_records(
    smtp_server: SmtpServer,
    pool: asyncpg.Pool,
    tenant_id: str,
) -> None:
    settings = Settings(smtp=smtp_server.settings, public_url="https://canopy.example/")
    handle = deliveries_handler(pool=pool, settings=settings)

    await handle(record(orjson.dumps(delivery_doc(tenant_id))))
    with pytest.raises(InvalidInput) as caught:
        await handle(record(b'{"id": "dl:x"}'))

    [received] = smtp_server.mailbox.received
    assert received.message["List-Unsubscribe"] == f"<{PREFERENCES}>"
    assert not is_transient(caught.value)  # the consumer dead-letters it


# --- through the broker ---------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def mailing(
    smtp_server: SmtpServer,
    kafka_settings: KafkaSettings,
    pg_pool: asyncpg.Pool,
    redis_client: Redis,
) -> AsyncIterator[Notify]:
    """The notification service sending email through this test's SMTP server."""
    settings = notify_settings(
        kafka_settings, smtp=smtp_server.settings, public_url="https://canopy.example"
    )
    async for service in start_notify(settings, pg_pool, redis_client):
        yield service


async def test_records_on_the_deliveries_topic_are_emailed_once_and_poison_is_dead_lettered(
    mailing: Notify, smtp_server: SmtpServer, tenant_id: str
) -> None:
    topic = mailing.settings.kafka.topic_deliveries
    good = orjson.dumps(delivery_doc(tenant_id))
    duplicates = counted("email", "duplicate")

    await mailing.producer.send(topic, good, key=f"{tenant_id}:u123")
    await mailing.producer.send(topic, b'{"id": "dl:poison"}', key=f"{tenant_id}:u123")
    await mailing.producer.send(topic, good, key=f"{tenant_id}:u123")  # redelivered

    async def dead_lettered() -> list[Any]:
        records = await read_topic(mailing.settings.kafka, mailing.settings.kafka.topic_dlq)
        return [r for r in records if r.value == b'{"id": "dl:poison"}']

    async def duplicate_skipped() -> bool:
        return counted("email", "duplicate") > duplicates

    [poison] = await eventually(dead_lettered, what="the poison delivery in the DLQ")
    await eventually(duplicate_skipped, what="the redelivered record skipped")
    headers = dict(poison.headers)
    assert headers["dlq.original.topic"] == topic.encode()
    assert headers["dlq.error.class"].endswith(b"InvalidInput")
    assert b"not a delivery record" in headers["dlq.error.message"]
    [received] = smtp_server.mailbox.received
    assert received.rcpt_tos == ["ada@example.com"]
    assert received.message["List-Unsubscribe"] == f"<{PREFERENCES}>"
