"""Upstream events through the real broker: each supported type is applied and published as a
canonical activity; bad records land in the DLQ with a reason while the ones behind them flow;
the same upstream id twice is a no-op; no W3C conformance document vanishes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from ingestion_harness import Api
from upstream_harness import (
    dead_letter_reasons,
    handled,
    person_doc,
    published,
    send,
)

from canopy_common.iris import user_iri
from canopy_common.kafka import Delivery, Producer
from canopy_testing.conformance import corpus_dir
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually
from canopy_testing.system import upstream_activity

pytestmark = pytest.mark.integration

CORPUS = corpus_dir()


async def test_an_hr_joiner_creates_a_profile_and_publishes_its_create(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    joiner = person_doc(tenant, "grace", "grace", title="Engineer", skills=["cobol"])

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", joiner))

    row = await api.pool.fetchrow(
        "SELECT * FROM users WHERE tenant_id = $1 AND id = 'grace'", tenant
    )
    assert row is not None
    assert (row["handle"], row["title"], row["skills"]) == ("grace", "Engineer", ["cobol"])
    [created] = await published(api, tenant)
    assert created.type == "Create"
    assert created.source == "workday"
    assert created.object.preferred_username == "grace"


async def test_an_hr_change_updates_and_a_leaver_is_erased(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "linus", handle="linus")

    changed = person_doc(tenant, "linus", "linus", department="Kernel")
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Update", changed))
    await send(
        upstream, api, tenant, upstream_activity(tenant, hr, "Delete", user_iri(tenant, "linus"))
    )

    active = await api.pool.fetchval(
        "SELECT active FROM users WHERE tenant_id = $1 AND id = 'linus'", tenant
    )
    assert active is False
    assert [a.type for a in await published(api, tenant)] == ["Update", "Delete"]


async def test_join_and_leave_of_a_group(api: Api, upstream: Producer, tenant: str) -> None:
    await api.seed_user(tenant, "owner")
    await api.seed_user(tenant, "ada")
    group_id = f"urn:uuid:{uuid.uuid4()}"
    await api.seed_group(tenant, group_id, owner="owner")

    await send(upstream, api, tenant, upstream_activity(tenant, "ada", "Join", group_id))
    joined = await api.pool.fetchval(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = 'ada'", tenant
    )
    await send(upstream, api, tenant, upstream_activity(tenant, "ada", "Leave", group_id))
    left = await api.pool.fetchval(
        "SELECT count(*) FROM memberships WHERE tenant_id = $1 AND user_id = 'ada'", tenant
    )

    assert joined == "member"
    assert left == 0
    assert [a.type for a in await published(api, tenant)] == ["Join", "Leave"]


async def test_a_bot_announcement_becomes_a_post(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    note = {"type": "Note", "content": "Release 4.2 is out", "kind": "announcement"}

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", note))

    row = await api.pool.fetchrow(
        "SELECT author_id, kind, content FROM posts WHERE tenant_id = $1", tenant
    )
    assert row is not None
    assert dict(row) == {"author_id": hr, "kind": "announcement", "content": "Release 4.2 is out"}
    [created] = await published(api, tenant)
    assert created.type == "Create"


async def test_a_task_is_created_rescheduled_and_deleted_with_its_assignees(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    due = datetime.now(UTC) + timedelta(days=2)
    task = {
        "type": "Task",
        "id": "https://jira.example/browse/CAN-1",
        "name": "Review the design",
        "endTime": due.isoformat(),
    }
    to = [user_iri(tenant, "ada")]

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", task, to=to))
    later = {**task, "endTime": (due + timedelta(days=1)).isoformat()}
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Update", later, to=to))
    rescheduled = await api.pool.fetchrow(
        "SELECT kind, to_ids, end_time FROM posts WHERE tenant_id = $1", tenant
    )
    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Delete", task["id"]))

    assert rescheduled is not None
    assert (rescheduled["kind"], rescheduled["to_ids"]) == ("task", ["ada"])
    assert rescheduled["end_time"] == due + timedelta(days=1)
    activities = await published(api, tenant)
    assert [a.type for a in activities] == ["Create", "Update", "Delete"]
    assert activities[1].object.end_time == due + timedelta(days=1)
    assert activities[0].to == to


async def test_a_document_added_to_a_group(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    group_id = f"urn:uuid:{uuid.uuid4()}"
    await api.seed_group(tenant, group_id, owner=hr)
    doc = {
        "type": "Document",
        "id": "https://drive.example/d/1",
        "name": "Roadmap",
        "url": "https://drive.example/d/1",
    }

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Add", doc, target=group_id))

    row = await api.pool.fetchrow("SELECT kind, group_id FROM posts WHERE tenant_id = $1", tenant)
    assert row is not None
    assert (row["kind"], row["group_id"]) == ("document", group_id)
    [added] = await published(api, tenant)
    assert added.type == "Add"


async def test_the_same_upstream_id_twice_is_applied_once(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    event = upstream_activity(tenant, hr, "Create", person_doc(tenant, "ken", "ken"))

    await send(upstream, api, tenant, event)
    await send(upstream, api, tenant, event)

    assert len(await published(api, tenant)) == 1


async def test_bad_records_are_dead_lettered_with_a_reason_and_the_good_ones_behind_flow(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    other = f"t_{uuid.uuid4().hex[:12]}"
    bad: list[dict[str, Any] | bytes] = [
        b"{not json",
        {
            **upstream_activity(tenant, hr, "Create", person_doc(tenant, "x", "x")),
            "published": None,
        },
        upstream_activity(other, hr, "Create", person_doc(other, "y", "y")) | {"tenant": other},
        upstream_activity(tenant, "nobody", "Create", {"type": "Note", "content": "hi"}),
        upstream_activity(tenant, hr, "Like", "https://example.org/x"),
    ]
    for doc in bad:
        value = doc if isinstance(doc, bytes) else orjson.dumps(doc)
        await upstream.send(api.settings.kafka.topic_upstream, value, key=f"{tenant}:upstream")
    await send(
        upstream,
        api,
        tenant,
        upstream_activity(tenant, hr, "Create", person_doc(tenant, "ok", "ok")),
    )

    reasons = await dead_letter_reasons(api, tenant)
    assert [cls for cls, _ in reasons] == [
        "InvalidJSON",
        "InvalidActivity",
        "UnknownTenant",
        "UnknownActor",
        "UnsupportedActivity",
    ]
    assert "published" in reasons[1][1]
    assert (
        await api.pool.fetchval(
            "SELECT count(*) FROM users WHERE tenant_id = $1 AND id = 'ok'", tenant
        )
        == 1
    )


@pytest.mark.conformance
async def test_no_conformance_document_vanishes(
    api: Api, upstream: Producer, tenant: str, hr: str, pg_pool: asyncpg.Pool
) -> None:
    files = sorted(CORPUS.glob("*.json")) + sorted((CORPUS / "fail").glob("*.json"))
    assert len(files) > 200
    sent: list[Delivery] = []
    for path in files:
        raw = path.read_bytes()
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        else:
            value = orjson.dumps({**doc, "tenant": tenant}) if isinstance(doc, dict) else raw
        sent.append(
            await upstream.send(
                api.settings.kafka.topic_upstream, value, key=f"{tenant}:{path.name}"
            )
        )
    await eventually(lambda: handled(api, sent), what="the corpus to be handled", timeout_s=120)

    dead = {
        r.key.decode().split(":", 1)[1]
        for r in await read_topic(api.settings.kafka, api.settings.kafka.topic_dlq)
        if r.key and r.key.decode().startswith(f"{tenant}:")
    }
    applied = {
        row["activity_id"]
        for row in await api.pool.fetch(
            "SELECT activity_id FROM consumed_activities WHERE tenant_id = $1", tenant
        )
    }
    vanished = [p.name for p in files if p.name not in dead and _id_of(p) not in applied]
    assert vanished == []


def _id_of(path: Path) -> str | None:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None
    return doc.get("id") if isinstance(doc, dict) else None
