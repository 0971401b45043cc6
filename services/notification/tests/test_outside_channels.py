"""Outside channels end to end: an activity becomes a notification, the grace period passes
(the test controls the clock), the delivery goes out on the deliveries topic, and the service's
email sender sends it to a real SMTP server — through the real broker, Redis and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from notify_harness import Notify
from smtp_harness import Received

from canopy_notify.adapters.deliveries import digest_due
from canopy_notify.adapters.live import Live
from canopy_notify.domain.model import Digest
from canopy_notify.handlers import Notifier
from canopy_notify.metrics import notify_metrics
from canopy_notify.workers import dispatch_deliveries
from canopy_testing.factories import ActivityFactory, user_id_of_subject
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration


def notifier(notify: Notify) -> Notifier:
    return Notifier(notify.settings, notify_metrics(), Live(notify.redis, presence_ttl_s=30))


def address(f: ActivityFactory, name: str) -> str:
    """An address of this test's own: the session's mailbox is shared."""
    return f"{name}@{f.tenant_id}.example.com"


class Outbox:
    """The scheduler's ``send``, as the service wires it: onto the deliveries topic."""

    def __init__(self, notify: Notify) -> None:
        self.notify = notify
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, key: str, value: dict[str, Any]) -> None:
        self.sent.append(value)
        await self.notify.producer.send(self.notify.settings.kafka.topic_deliveries, value, key=key)

    def emails(self, tenant: str) -> list[dict[str, Any]]:
        return [d for d in self.sent if d["tenant"] == tenant and d["channel"] == "email"]


async def mail_to(notify: Notify, to: str, count: int = 1) -> list[Received]:
    async def arrived() -> list[Received] | None:
        found = notify.mailbox.to(to)
        return found if len(found) >= count else None

    return await eventually(arrived, what=f"{count} email(s) to {to}")


async def test_an_offline_person_gets_an_email_and_an_online_one_does_not(notify: Notify) -> None:
    f = ActivityFactory()
    ada = f.user("ada", email=address(f, "ada"))
    cy = f.user("cy", email=address(f, "cy"))
    bob = f.user("bob")
    await notify.send(ada, bob, cy)
    await Live(notify.redis, presence_ttl_s=30).here(f.tenant_id, user_id_of_subject(cy))
    await notify.send(f.post(bob, "@ada @cy the deploy is done", mentions=[ada, cy]))
    outbox = Outbox(notify)

    later = datetime.now(UTC) + timedelta(seconds=notify.settings.delivery_grace_s + 1)
    await dispatch_deliveries(notify.pool, later, notifier=notifier(notify), send=outbox)

    [record] = outbox.emails(f.tenant_id)  # cy has the app open: nothing for cy
    assert record["recipient"] == user_id_of_subject(ada)
    assert record["to"] == {"name": "Ada", "email": address(f, "ada")}
    assert record["items"][0]["type"] == "mention"
    on_topic = await read_topic(notify.settings.kafka, notify.settings.kafka.topic_deliveries)
    assert any(orjson.loads(r.value)["id"] == record["id"] for r in on_topic)

    [received] = await mail_to(notify, address(f, "ada"))
    assert received.rcpt_tos == [address(f, "ada")]
    assert "mentioned you" in str(received.message["Subject"])
    assert "the deploy is done" in str(received.message["Subject"])
    assert notify.mailbox.to(address(f, "cy")) == []
    # Dispatching again sends nothing more: the delivery was claimed once.
    await dispatch_deliveries(notify.pool, later, notifier=notifier(notify), send=outbox)
    assert len(outbox.emails(f.tenant_id)) == 1


async def test_a_digest_user_gets_one_email_for_many_notifications(notify: Notify) -> None:
    f = ActivityFactory()
    ada = f.user("ada", email=address(f, "ada"))
    fans = [f.user(f"fan{n}") for n in range(4)]
    await notify.send(ada, *fans)
    put = await notify.client.put(
        "/v1/notification-preferences",
        json={"digest": "daily"},
        headers=notify.headers(f.tenant_id, user_id_of_subject(ada)),
    )
    assert put.status_code == 200, put.text
    await notify.send(
        *(f.post(p, f"@ada have a look at #{n}", mentions=[ada]) for n, p in enumerate(fans))
    )
    outbox, who = Outbox(notify), notifier(notify)
    # Just before the digest period ends (whatever the time of day the test runs at).
    boundary = digest_due(Digest.DAILY, datetime.now(UTC))
    await dispatch_deliveries(
        notify.pool, boundary - timedelta(seconds=1), notifier=who, send=outbox
    )
    assert outbox.emails(f.tenant_id) == []  # held for the digest

    await dispatch_deliveries(
        notify.pool, boundary + timedelta(seconds=1), notifier=who, send=outbox
    )
    [record] = outbox.emails(f.tenant_id)
    assert record["digest"] == "daily"
    assert len(record["items"]) == 4
    [received] = await mail_to(notify, address(f, "ada"))
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert all(f"have a look at #{n}" in text for n in range(4))
