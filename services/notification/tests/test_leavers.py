"""A deactivated person in notify (docs/architecture.md §16): told nothing — no notification,
no e-mail, not even the digest already waiting — and refused on every route; reactivation
restores it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asyncpg import Record
from notify_harness import Notify

from canopy_notify.adapters.deliveries import digest_due
from canopy_notify.adapters.live import Live
from canopy_notify.domain.model import Digest
from canopy_notify.handlers import Notifier
from canopy_notify.metrics import notify_metrics
from canopy_notify.workers import dispatch_deliveries
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration


async def test_a_leaver_is_told_nothing_and_their_waiting_digest_is_dropped(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    mateo = f.user("mateo", email=f"mateo@{f.tenant_id}.example.com")
    nadia = f.user("nadia")
    await notify.send(mateo, nadia)
    tenant, who = f.tenant_id, user_id_of_subject(mateo)
    digest = await notify.client.put(
        "/v1/notification-preferences",
        json={"digest": "daily"},
        headers=notify.headers(tenant, who),
    )
    assert digest.status_code == 200, digest.text
    runbook = f.post(nadia, "@mateo see the runbook", mentions=[mateo])
    await notify.send(runbook)

    await notify.send(f.profile_update(mateo, active=False))
    await notify.send(f.post(nadia, "@mateo are you there?", mentions=[mateo]))

    assert (await notify.get("/v1/notifications", tenant, who)).status_code == 403
    sent: list[dict[str, object]] = []

    async def send(key: str, value: dict[str, object]) -> None:
        sent.append(value)

    notifier = Notifier(notify.settings, notify_metrics(), Live(notify.redis, presence_ttl_s=30))
    after_digest = digest_due(Digest.DAILY, datetime.now(UTC)) + timedelta(seconds=1)
    await dispatch_deliveries(notify.pool, after_digest, notifier=notifier, send=send)
    assert [d for d in sent if d["tenant"] == tenant] == []

    async def decided() -> list[Record] | None:
        # The service's own delivery worker may have claimed a delivery before this dispatch
        # did (SKIP LOCKED): wait until it has written the outcome too.
        rows = await notify.pool.fetch(
            "SELECT channel, outcome, notification_id FROM deliveries WHERE tenant_id = $1",
            tenant,
        )
        return rows if rows and all(row["outcome"] is not None for row in rows) else None

    dropped = await eventually(decided, what="every delivery of the leaver decided")
    # The first mention's e-mail (held for the digest) and push; nothing of the second.
    assert sorted((row["channel"], row["outcome"]) for row in dropped) == [
        ("email", "inactive"),
        ("push", "inactive"),
    ]
    assert len({row["notification_id"] for row in dropped}) == 1

    await notify.send(f.profile_update(mateo, active=True))
    welcome = f.post(nadia, "@mateo welcome back", mentions=[mateo])
    await notify.send(welcome)

    page = await notify.get("/v1/notifications", tenant, who)
    assert page.status_code == 200, page.text
    told = [item["object"]["id"] for item in page.json()["items"]]
    assert told == [subject_id(welcome), subject_id(runbook)]  # not the one meanwhile
