"""A fetched batch of upstream records applied in one transaction (``upstream_batch``), on
the real Postgres: every event once and in record order, a redelivery a no-op, and a poison
record refused alone — whether it failed a check or failed after writing — while the rest
are applied."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from ingestion_harness import Api
from upstream_harness import person_doc, published

from canopy_common.iris import user_iri
from canopy_common.kafka import ConsumedRecord
from canopy_common.tracing import new_traceparent, parse_traceparent
from canopy_ingestion.upstream_batch import apply_batch
from canopy_testing.system import upstream_activity

pytestmark = pytest.mark.integration

TASK = "https://jira.example/browse/CAN-42"


def records(*docs: dict[str, Any] | bytes, traceparent: str | None = None) -> list[ConsumedRecord]:
    """The documents as one partition's fetched records, in this order."""
    headers = {"traceparent": traceparent.encode()} if traceparent else {}
    return [
        ConsumedRecord(
            topic="test.upstream",
            partition=0,
            offset=offset,
            key=b"tenant:key",
            value=doc if isinstance(doc, bytes) else orjson.dumps(doc),
            headers=headers,
            timestamp=datetime.now(UTC),
        )
        for offset, doc in enumerate(docs)
    ]


def task(tenant: str, hr: str, verb: str, **fields: Any) -> dict[str, Any]:
    obj = {"type": "Task", "id": TASK, "name": "Review the design", **fields}
    to = [user_iri(tenant, "ada")]
    if verb == "Delete":
        return upstream_activity(tenant, hr, "Delete", TASK)
    return upstream_activity(tenant, hr, verb, obj, to=to)


def refused_offsets(refused: Sequence[Any]) -> list[int]:
    return [r.record.offset for r in refused]


async def consumed(api: Api, tenant: str, activity_id: str) -> bool:
    found: bool = await api.pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM consumed_activities WHERE tenant_id = $1 "
        "AND activity_id = $2)",
        tenant,
        activity_id,
    )
    return found


async def test_a_task_created_rescheduled_and_deleted_in_one_batch_ends_deleted_in_order(
    api: Api, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    due = datetime.now(UTC) + timedelta(days=3)
    batch = records(
        task(tenant, hr, "Create", endTime=due.isoformat()),
        task(tenant, hr, "Update", endTime=(due + timedelta(days=1)).isoformat()),
        task(tenant, hr, "Delete"),
    )

    assert await apply_batch(api.pool, batch) == []

    row = await api.pool.fetchrow(
        "SELECT end_time, deleted_at FROM posts WHERE tenant_id = $1 AND id = $2", tenant, TASK
    )
    assert row is not None
    assert row["end_time"] == due + timedelta(days=1)
    assert row["deleted_at"] is not None
    activities = await published(api, tenant)
    assert [a.type for a in activities] == ["Create", "Update", "Delete"]
    assert activities[1].object.end_time == due + timedelta(days=1)


async def test_the_same_id_twice_in_a_batch_and_again_in_a_later_one_is_applied_once(
    api: Api, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    create = task(tenant, hr, "Create")

    assert await apply_batch(api.pool, records(create, create, task(tenant, hr, "Update"))) == []
    assert await apply_batch(api.pool, records(create)) == []

    assert [a.type for a in await published(api, tenant)] == ["Create", "Update"]


async def test_poison_records_in_the_middle_are_refused_alone_and_the_rest_applied(
    api: Api, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    unknown_actor = upstream_activity(tenant, "nobody", "Create", {"type": "Note", "content": "x"})
    batch = records(
        task(tenant, hr, "Create"),
        b"{not json",
        unknown_actor,
        {**task(tenant, hr, "Update"), "published": "yesterday"},
        task(tenant, hr, "Update", status="completed"),
    )

    refused = await apply_batch(api.pool, batch)

    assert refused_offsets(refused) == [1, 3, 2]  # undecodable first, then as applied
    assert [type(r.error).__name__ for r in refused] == [
        "InvalidJSON",
        "InvalidActivity",
        "UnknownActor",
    ]
    assert [a.type for a in await published(api, tenant)] == ["Create", "Update"]
    status = await api.pool.fetchval(
        "SELECT status FROM posts WHERE tenant_id = $1 AND id = $2", tenant, TASK
    )
    assert status == "completed"
    # Not recorded as consumed: the same id, fixed, is applied when it comes again.
    assert not await consumed(api, tenant, unknown_actor["id"])


async def test_an_event_refused_after_writing_is_undone_and_the_batch_applied_without_it(
    api: Api, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    missing_group = f"urn:uuid:{uuid.uuid4()}"
    join = upstream_activity(tenant, "ada", "Join", missing_group)
    batch = records(
        task(tenant, hr, "Create"),
        upstream_activity(tenant, hr, "Create", person_doc(tenant, "grace", "grace")),
        join,  # fails in its handler, on the connection, after the people were written
        task(tenant, hr, "Update", status="completed"),
    )

    refused = await apply_batch(api.pool, batch)

    assert refused_offsets(refused) == [2]
    assert type(refused[0].error).__name__ == "NotFound"
    assert [a.type for a in await published(api, tenant)] == ["Create", "Create", "Update"]
    grace = await api.pool.fetchval(
        "SELECT count(*) FROM users WHERE tenant_id = $1 AND id = 'grace'", tenant
    )
    assert grace == 1
    assert not await consumed(api, tenant, join["id"])


async def test_a_joiner_can_be_mentioned_by_the_next_record_and_a_taken_handle_is_refused(
    api: Api, tenant: str, hr: str
) -> None:
    group_id = f"urn:uuid:{uuid.uuid4()}"
    await api.seed_group(tenant, group_id, owner=hr)
    note = {"type": "Note", "content": "Welcome @grace to the team!", "kind": "announcement"}
    batch = records(
        upstream_activity(tenant, hr, "Create", person_doc(tenant, "grace", "grace")),
        upstream_activity(tenant, hr, "Create", person_doc(tenant, "grace2", "Grace")),
        upstream_activity(tenant, hr, "Create", note, target=group_id),
    )

    refused = await apply_batch(api.pool, batch)

    assert refused_offsets(refused) == [1]
    assert "taken" in str(refused[0].error)
    activities = await published(api, tenant)
    assert [a.type for a in activities] == ["Create", "Create"]
    mentions = [tag.href for tag in activities[1].object.tag if tag.type == "Mention"]
    assert mentions == [user_iri(tenant, "grace")]


async def test_an_unchanged_profile_publishes_nothing(api: Api, tenant: str, hr: str) -> None:
    joiner = person_doc(tenant, "lin", "lin", title="Engineer")
    first = upstream_activity(tenant, hr, "Create", joiner)
    again = upstream_activity(tenant, hr, "Update", joiner)

    assert await apply_batch(api.pool, records(first, again)) == []

    assert [a.type for a in await published(api, tenant)] == ["Create"]


async def test_each_activity_continues_its_records_trace(api: Api, tenant: str, hr: str) -> None:
    await api.seed_user(tenant, "ada")
    incoming = new_traceparent()

    assert (
        await apply_batch(api.pool, records(task(tenant, hr, "Create"), traceparent=incoming)) == []
    )

    [row] = await api.outbox(tenant)
    header = await api.pool.fetchval(
        "SELECT headers ->> 'traceparent' FROM outbox WHERE activity_id = $1", row["activity_id"]
    )
    continued, parent = parse_traceparent(header), parse_traceparent(incoming)
    assert continued is not None
    assert parent is not None
    assert continued.trace_id == parent.trace_id


async def test_a_note_matching_the_content_policy_is_flagged_or_refused_as_over_http(
    api: Api, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "ada")
    secret = {"type": "Note", "content": "card 4111 1111 1111 1111"}  # the default rules' card
    batch = records(
        upstream_activity(tenant, hr, "Create", secret),  # internal: flagged for moderators
        upstream_activity(tenant, hr, "Create", secret, visibility="public"),  # guests read it
        task(tenant, hr, "Create"),
    )

    refused = await apply_batch(api.pool, batch)

    assert refused_offsets(refused) == [1]
    assert type(refused[0].error).__name__ == "ContentPolicyViolation"
    assert [a.type for a in await published(api, tenant)] == ["Create", "Flag", "Create"]
    flagged = await api.pool.fetchval(
        "SELECT count(*) FROM flags f JOIN posts p ON p.tenant_id = f.tenant_id "
        "AND p.id = f.post_id WHERE f.tenant_id = $1 AND f.rule IS NOT NULL",
        tenant,
    )
    assert flagged == 1


async def test_a_task_assigned_to_someone_who_is_not_an_active_person_is_refused(
    api: Api, tenant: str, hr: str
) -> None:
    refused = await apply_batch(api.pool, records(task(tenant, hr, "Create")))  # no ada

    assert refused_offsets(refused) == [0]
    assert type(refused[0].error).__name__ == "InvalidInput"
    assert "not active people of this tenant" in str(refused[0].error)
    assert "ada" in str(refused[0].error)
    assert await published(api, tenant) == []
