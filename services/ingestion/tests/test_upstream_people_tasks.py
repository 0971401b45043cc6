"""Upstream HR people with e-mail addresses and roles, and upstream tasks with a status,
through the real broker: applied, published in the shape the factories build, and refused
into the DLQ with a reason when invalid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from ingestion_harness import Api
from upstream_harness import (
    dead_letter_reasons,
    person_doc,
    published,
    send,
)

from canopy_common.events import StrictActivity, encode
from canopy_common.iris import user_iri
from canopy_common.kafka import Producer
from canopy_testing.factories import ActivityFactory
from canopy_testing.system import upstream_activity

pytestmark = pytest.mark.integration

TASK_ID = "https://jira.example/browse/CAN-7"


def comparable(activity: StrictActivity) -> dict[str, Any]:
    """The activity on the wire, less the members that differ between any two of them (ids,
    times, trace)."""
    doc: dict[str, Any] = orjson.loads(encode(activity))
    for member in ("id", "published", "traceparent"):
        doc.pop(member, None)
    for member in ("published", "updated"):
        doc["object"].pop(member, None)
    return doc


async def status_of(api: Api, tenant: str, object_id: str) -> str | None:
    status: str | None = await api.pool.fetchval(
        "SELECT status FROM posts WHERE tenant_id = $1 AND id = $2", tenant, object_id
    )
    return status


# --- people ---------------------------------------------------------------------------------


async def test_an_hr_person_brings_an_email_address_and_roles(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    joiner = person_doc(
        tenant, "mo", "mo", email="Mo@Example.com", roles=["tenant_admin", "moderator"]
    )

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", joiner))

    row = await api.pool.fetchrow(
        "SELECT email, roles FROM users WHERE tenant_id = $1 AND id = 'mo'", tenant
    )
    assert row is not None
    assert (row["email"], row["roles"]) == ("Mo@example.com", ["moderator", "tenant_admin"])
    [created] = await published(api, tenant)
    f = ActivityFactory(tenant, source="workday")
    expected = f.user(
        "mo",
        user_id="mo",
        display_name="Mo",
        email="Mo@example.com",
        roles=["tenant_admin", "moderator"],
        by=user_iri(tenant, hr),
    )
    assert comparable(created) == comparable(expected)


async def test_an_hr_update_without_roles_keeps_them(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    joiner = person_doc(tenant, "mo", "mo", roles=["moderator"])
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", joiner))

    moved = person_doc(tenant, "mo", "mo", department="Trust & Safety")
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Update", moved))

    _, update = await published(api, tenant)
    assert update.type == "Update"
    assert update.object.model_extra["roles"] == ["moderator"]
    assert update.object.model_extra["department"] == "Trust & Safety"


async def test_an_hr_person_with_a_bad_email_or_role_is_dead_lettered(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    bad = [
        person_doc(tenant, "a", "a", email="not an address"),
        person_doc(tenant, "b", "b", email=["b@example.com"]),
        person_doc(tenant, "c", "c", roles=["platform_admin"]),
        person_doc(tenant, "d", "d", roles="moderator"),
    ]
    for doc in bad:
        await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", doc))

    reasons = await dead_letter_reasons(api, tenant)
    assert [cls for cls, _ in reasons] == [
        "InvalidText",
        "InvalidInput",
        "InvalidText",
        "InvalidInput",
    ]
    assert [message.split(":")[0] for _, message in reasons] == [
        "email",
        "object.email",
        "roles",
        "object.roles",
    ]
    assert await published(api, tenant) == []


# --- tasks ----------------------------------------------------------------------------------


async def test_a_completed_task_is_published_as_an_update_carrying_its_status(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    task = {"type": "Task", "id": TASK_ID, "name": "Sign the NDA", "endTime": due.isoformat()}
    to = [user_iri(tenant, "ada")]

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", task, to=to))
    opened = await status_of(api, tenant, TASK_ID)
    done = {**task, "status": "completed"}
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Update", done, to=to))

    assert (opened, await status_of(api, tenant, TASK_ID)) == ("open", "completed")
    create, update = await published(api, tenant)
    assert create.object.model_extra["status"] == "open"
    assert update.type == "Update"
    assert update.object.model_extra["status"] == "completed"
    f = ActivityFactory(tenant, source="workday")
    bot = f.user("hr-bot", user_id="hr-bot", display_name="Hr-Bot", kind="bot")
    ada = f.user("ada", user_id="ada", display_name="Ada")
    expected = f.task(bot, "Sign the NDA", due=due, assignees=[ada], task_id=TASK_ID)
    assert comparable(create) == comparable(expected)
    assert comparable(update) == comparable(f.update_task(expected, status="completed"))


async def test_a_rescheduled_task_keeps_its_status_unless_told(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    due = datetime.now(UTC) + timedelta(days=2)
    task = {"type": "Task", "id": TASK_ID, "endTime": due.isoformat(), "status": "cancelled"}
    to = [user_iri(tenant, "ada")]

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", task, to=to))
    later = {"type": "Task", "id": TASK_ID, "endTime": (due + timedelta(days=1)).isoformat()}
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Update", later, to=to))
    kept = await status_of(api, tenant, TASK_ID)
    reopened = {**later, "status": "open"}
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Update", reopened, to=to))

    assert (kept, await status_of(api, tenant, TASK_ID)) == ("cancelled", "open")
    statuses = [a.object.model_extra["status"] for a in await published(api, tenant)]
    assert statuses == ["cancelled", "cancelled", "open"]


async def test_an_event_says_its_status_too(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    start = datetime.now(UTC) + timedelta(days=1)
    event = {
        "type": "Event",
        "id": "https://calendar.example/e/1",
        "name": "Offsite",
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=8)).isoformat(),
    }

    await send(
        upstream,
        api,
        tenant,
        upstream_activity(tenant, hr, "Create", event, to=[user_iri(tenant, "ada")]),
    )

    [created] = await published(api, tenant)
    assert (created.object.type, created.object.model_extra["status"]) == ("Event", "open")


async def test_a_task_with_an_unknown_status_is_dead_lettered(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    task = {"type": "Task", "id": TASK_ID, "name": "Ship", "status": "done"}

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", task))

    [(cls, message)] = await dead_letter_reasons(api, tenant)
    assert cls == "InvalidInput"
    assert message.startswith("object.status:")
    assert await status_of(api, tenant, TASK_ID) is None
