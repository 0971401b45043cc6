"""A task from the tracker, published on the upstream topic, reminds its assignee when its
tenant says: not before, and within a small margin after.

The tenant's lead time is the least the API allows (60 s), and the task falls due just over a
minute after it is published, so the reminder is due a few seconds in: the test waits seconds,
not hours, with the system started exactly as ``make up`` starts it (no setting changed).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from canopy_common.iris import user_iri
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient, upstream_activity

pytestmark = pytest.mark.e2e

LEAD_S = 60  # the shortest lead time a tenant may set (notify's MIN_LEAD_S)
# From publishing the task to its reminder being due: room for the task to travel upstream →
# ingestion → activities → notify and be armed first (a reminder due before it is armed is
# skipped: the assignment itself told them).
ARMING_S = 6.0
# The scheduler looks every CANOPY_NOTIFY_REMINDER_POLL_S (1 s); the rest is one transaction,
# and this test's own polling.
LATENESS_MARGIN_S = 2.5


async def of_type(canopy: SystemClient, tenant: str, user: str, kind: str) -> list[dict[str, Any]]:
    return [n for n in await canopy.notifications(tenant, user) if n["type"] == kind]


async def test_a_task_due_reminder_arrives_on_time(
    canopy: SystemClient, tenant_id: str, record_property: Any
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", bots=("jira",))
    leads = await canopy.call(
        "notify",
        "PUT",
        "/v1/notification-preferences/tenant",
        t,
        "ada",  # an active person, as tenant admin
        "tenant_admin",
        json={"reminder_leads_s": [LEAD_S]},
    )
    assert leads["reminder_leads_s"] == [LEAD_S]
    due = datetime.now(UTC) + timedelta(seconds=LEAD_S + ARMING_S)
    remind_at = due - timedelta(seconds=LEAD_S)
    task = {
        "type": "Task",
        "id": "https://jira.example/browse/CAN-42",
        "name": "Write the release notes",
        "endTime": due.isoformat(),
    }

    await canopy.publish_upstream(
        upstream_activity(t, "jira", "Create", task, to=[user_iri(t, "ada")], source="jira"),
        key=f"{t}:jira",
    )

    [assigned] = await eventually(
        lambda: of_type(canopy, t, "ada", "task_assigned"), what="the task assignment"
    )
    assert assigned["object"]["id"] == task["id"]
    while datetime.now(UTC) < remind_at - timedelta(seconds=0.3):
        assert await of_type(canopy, t, "ada", "task_due") == [], "reminded too early"
        await asyncio.sleep(0.2)
    [reminder] = await eventually(
        lambda: of_type(canopy, t, "ada", "task_due"),
        what="the task due reminder",
        timeout_s=LEAD_S,  # far beyond the margin, so a late one is measured, not timed out
        interval_s=0.05,
    )
    seen_at = datetime.now(UTC)

    created_at = datetime.fromisoformat(reminder["created_at"])
    lateness_s = (seen_at - remind_at).total_seconds()
    record_property("reminder_lateness_s", round(lateness_s, 3))
    print(f"task due reminder: created {(created_at - remind_at).total_seconds():+.3f}s, "
          f"seen {lateness_s:+.3f}s after its time")  # fmt: skip
    assert reminder["object"]["id"] == task["id"]
    assert reminder["text"].startswith("Due in 1 minute")
    assert reminder["urgent"] is True
    assert created_at >= remind_at
    assert lateness_s < LATENESS_MARGIN_S
