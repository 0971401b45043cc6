"""Task due reminders (the test controls the clock) and the live stream with ``Last-Event-ID``
replay — through the real broker, Redis and Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from httpx_sse import aconnect_sse
from notify_harness import Notify

from canopy_common.service import Mode
from canopy_notify.adapters.live import Live
from canopy_notify.app import create_app
from canopy_notify.handlers import Notifier
from canopy_notify.metrics import notify_metrics
from canopy_notify.workers import fire_reminders
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.http import served_over_http
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

HOUR = timedelta(hours=1)


def notifier(notify: Notify) -> Notifier:
    return Notifier(notify.settings, notify_metrics(), Live(notify.redis, presence_ttl_s=30))


async def types(notify: Notify, tenant: str, user: str) -> list[str]:
    response = await notify.get("/v1/notifications", tenant, user)
    return [item["type"] for item in response.json()["items"]]


async def test_a_task_reminder_fires_once_re_arms_and_never_after_deletion(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    now = datetime.now(UTC).replace(microsecond=0)
    due = now + 30 * HOUR
    task = f.task(ada, "Submit the budget", due=due, assignees=[bob])
    other = f.task(ada, "Renew the certificate", due=due, assignees=[bob])
    await notify.send(ada, bob)
    await notify.send(task, other)
    assert await types(notify, f.tenant_id, user_id_of_subject(bob)) == [
        "task_assigned",
        "task_assigned",
    ]
    who = notifier(notify)

    # Not yet: 24 h before is 6 h away.
    assert await fire_reminders(notify.pool, now + HOUR, notifier=who) == 0
    fired = await fire_reminders(notify.pool, due - 24 * HOUR, notifier=who)
    assert fired == 2  # both tasks' 24-hour reminders
    assert await fire_reminders(notify.pool, due - 24 * HOUR, notifier=who) == 0  # once only
    bob_types = await types(notify, f.tenant_id, user_id_of_subject(bob))
    assert bob_types.count("task_due") == 2

    # The due time moves a day on: the 1-hour reminder follows it; the other task is deleted.
    moved = due + 24 * HOUR
    await notify.send(f.update_task(task, due=moved), f.delete_task(other))
    assert await fire_reminders(notify.pool, due - HOUR, notifier=who) == 0  # old time: nothing
    assert await fire_reminders(notify.pool, moved - HOUR, notifier=who) == 2  # 24 h and 1 h
    assert await fire_reminders(notify.pool, moved + HOUR, notifier=who) == 0
    due_items = [
        i
        for i in (
            await notify.get("/v1/notifications", f.tenant_id, user_id_of_subject(bob))
        ).json()["items"]
        if i["type"] == "task_due"
    ]
    assert len(due_items) == 4
    assert {i["object"]["id"] for i in due_items} == {subject_id(task), subject_id(other)}
    assert sum(i["object"]["id"] == subject_id(other) for i in due_items) == 1


@pytest_asyncio.fixture(loop_scope="session")
async def second_api(notify: Notify) -> AsyncIterator[httpx.AsyncClient]:
    """Another API process of the same service (API mode: no consumers), over real HTTP: live
    events reach it only through Redis pub/sub."""
    async with (
        served_over_http(create_app(notify.settings, Mode.API)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        yield client


async def test_the_live_stream_delivers_and_replays_what_was_missed(
    notify: Notify, second_api: httpx.AsyncClient
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    await notify.send(ada, bob)
    headers = notify.headers(f.tenant_id, user_id_of_subject(ada))
    received: list[dict[str, Any]] = []

    async def listen(extra: dict[str, str], count: int) -> None:
        async with aconnect_sse(
            second_api, "GET", "/v1/notifications/stream", headers={**headers, **extra}
        ) as source:
            async for event in source.aiter_sse():
                if event.event == "notification":
                    received.append({**orjson.loads(event.data), "sse_id": event.id})
                    if len(received) >= count:
                        return

    listener = asyncio.create_task(listen({}, 1))
    await asyncio.sleep(0.5)
    started = asyncio.get_running_loop().time()
    await notify.publish(f.post(bob, "@ada first", mentions=[ada]))
    await asyncio.wait_for(listener, timeout=10)
    assert received[0]["type"] == "mention"
    assert asyncio.get_running_loop().time() - started < 3
    last_id = received[0]["sse_id"]

    # Away: two more happen; reconnecting with Last-Event-ID replays exactly those.
    missed = [f.post(bob, f"@ada number {n}", mentions=[ada]) for n in (2, 3)]
    await notify.send(*missed)

    async def both_stored() -> bool:
        return len(await types(notify, f.tenant_id, user_id_of_subject(ada))) == 3

    await eventually(both_stored, what="three notifications")
    received.clear()
    await asyncio.wait_for(listen({"Last-Event-ID": last_id}, 2), timeout=10)
    assert sorted(r["object"]["id"] for r in received) == sorted(subject_id(m) for m in missed)
    assert all(int(r["sse_id"]) > int(last_id) for r in received)
