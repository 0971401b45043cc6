"""Audit entries of actions taken outside ingestion (docs/architecture.md §14), through real
Kafka and Postgres: a DLQ replay shows in the tenant's log, an entry is recorded once however
often it comes, and anything but a valid entry of an allowed action is dead-lettered."""

from __future__ import annotations

import getpass
from contextlib import aclosing
from typing import Any

import orjson
import pytest
from ingestion_harness import Api
from test_audit_log import entries
from upstream_harness import send

from canopy_common.audit_events import OutsideAction, audit_event, encode_audit_event
from canopy_common.dead_letters import DeadLetter, Filters, read_dead_letters, replay
from canopy_common.kafka import Delivery, Producer
from canopy_testing.kafka import committed_offsets, read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration


async def publish_entries(api: Api, producer: Producer, *values: bytes, key: str) -> None:
    """Publish raw audit records and wait until ingestion's audit consumer is past them."""
    kafka = api.settings.kafka
    sent = [await producer.send(kafka.topic_audit, value, key=key) for value in values]
    await eventually(lambda: handled(api, sent), what="the audit records to be handled")


async def handled(api: Api, sent: list[Delivery]) -> bool:
    kafka = api.settings.kafka
    group = f"{api.settings.consumer_group}.audit"
    committed = await committed_offsets(kafka, group, kafka.topic_audit)
    return all(committed.get(d.partition, 0) > d.offset for d in sent)


async def audit_dead_letters(api: Api, key: str) -> list[dict[str, str]]:
    kafka = api.settings.kafka
    return [
        {name: value.decode() for name, value in record.headers}
        for record in await read_topic(kafka, kafka.topic_dlq)
        if record.key == key.encode()
        and dict(record.headers).get("dlq.original.topic") == kafka.topic_audit.encode()
    ]


def export(for_tenant: str, **changes: Any) -> bytes:
    entry = audit_event(
        tenant=for_tenant,
        actor="ada",
        action=OutsideAction.ANALYTICS_EXPORT,
        target="/v1/analytics/summary",
        details={"file": "analytics-summary-7d.csv", "rows": 1},
    )
    return orjson.dumps(orjson.loads(encode_audit_event(entry)) | changes)


async def test_replaying_a_dead_letter_is_recorded_in_its_tenants_log(
    api: Api, upstream: Producer, tenant: str
) -> None:
    kafka = api.settings.kafka
    key = f"{tenant}:upstream"  # the key upstream_harness.send gives
    await send(upstream, api, tenant, b'{"type": "Create", "actor": ')  # not JSON: dead-lettered

    async def ours() -> list[DeadLetter] | None:
        found = []
        async with aclosing(read_dead_letters(kafka, Filters(topic=kafka.topic_upstream))) as all_:
            found = [letter async for letter in all_ if letter.key == key.encode()]
        return found or None

    letters = await eventually(ours, what="the dead letter")
    report = await replay(
        upstream, letters, Filters(topic=kafka.topic_upstream), audit_topic=kafka.topic_audit
    )
    assert (len(report.replayed), report.failed, report.unaudited) == (1, [], None)

    async def recorded() -> list[dict[str, Any]] | None:
        return await entries(api, tenant, action="dlq.replay") or None

    [item] = await eventually(recorded, what="the dlq.replay entry")
    assert (item["actor"], item["target"]) == (
        f"operator:{getpass.getuser()}",
        kafka.topic_upstream,
    )
    assert item["details"] == {
        "filters": {"topic": kafka.topic_upstream},
        "replayed": 1,
        "failed": 0,
        "letters": [str(letters[0].id)],
        "failures": {},
    }


async def test_an_entry_delivered_twice_is_recorded_once_at_the_time_it_names(
    api: Api, upstream: Producer, tenant: str
) -> None:
    value = export(tenant, at="2026-02-01T10:00:00+00:00")

    await publish_entries(api, upstream, value, value, key=tenant)

    items = await entries(api, tenant)
    assert [(i["actor"], i["action"], i["target"]) for i in items] == [
        ("ada", "analytics.export", "/v1/analytics/summary")
    ]
    assert items[0]["at"].startswith("2026-02-01T10:00:00")
    assert items[0]["details"] == {"file": "analytics-summary-7d.csv", "rows": 1}


async def test_invalid_entries_are_dead_lettered_with_the_reason_and_never_recorded(
    api: Api, upstream: Producer, tenant: str
) -> None:
    refused = {
        "action": export(tenant, action="user.erase"),  # ingestion's own actions: never forged
        "tenant": export(tenant, tenant=f"{tenant}/x"),
        "JSON": b'{"id": ',
        "keyed otherwise": export(f"{tenant}-other"),
    }

    await publish_entries(api, upstream, *refused.values(), key=tenant)

    letters = await eventually(
        lambda: _all_of(audit_dead_letters(api, tenant), len(refused)), what="4 dead letters"
    )
    for (what, _), headers in zip(refused.items(), letters, strict=True):
        assert headers["dlq.error.class"].endswith("InvalidAuditEvent"), what
        assert what.split()[0] in headers["dlq.error.message"], (what, headers)
    assert await entries(api, tenant) == []
    assert await entries(api, f"{tenant}-other") == []


async def _all_of(found: Any, count: int) -> list[dict[str, str]] | None:
    letters: list[dict[str, str]] = await found
    return letters if len(letters) == count else None
