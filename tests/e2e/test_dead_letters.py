"""Garbage on the upstream topic never blocks it: each bad record lands in the DLQ, as it came,
with headers saying where it was and why it was refused, while the valid events published
right behind it on the same partition are applied."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from canopy_common.kafka import Delivery
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient, person, upstream_activity

pytestmark = pytest.mark.e2e


async def test_garbage_upstream_is_dead_lettered_with_reasons_and_the_events_behind_it_flow(
    canopy: SystemClient, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", bots=("hr-bot",))
    key = f"{t}:hr"  # one key: one partition, in this order
    no_tenant = upstream_activity(t, "hr-bot", "Create", person(t, "x", "X"))
    del no_tenant["tenant"]
    garbage = {
        "not JSON": b'{"type": "Create", "actor": ',
        "not AS2": orjson.dumps(
            upstream_activity(t, "hr-bot", "Create", person(t, "y", "Y")) | {"published": "soon"}
        ),
        "no tenant": orjson.dumps(no_tenant),
    }
    dumped: list[Delivery] = []
    for raw in garbage.values():
        dumped.append(await canopy.publish_upstream(raw, key=key))
    joiner = person(t, "grace", "Grace Hopper", title="Engineer")
    promoted = joiner | {"title": "Rear Admiral"}
    valid = [
        await canopy.publish_upstream(upstream_activity(t, "hr-bot", "Create", joiner), key=key),
        await canopy.publish_upstream(upstream_activity(t, "hr-bot", "Update", promoted), key=key),
    ]
    assert len({d.partition for d in dumped + valid}) == 1

    async def grace_title() -> str | None:
        found = await canopy.request("ingestion", "GET", "/v1/users/grace", t, "ada")
        title = found.json()["title"] if found.status_code == 200 else None
        return title if title == "Rear Admiral" else None

    await eventually(grace_title, what="the joiner and the change behind the garbage")

    async def dead_letters() -> list[Any] | None:
        kafka = canopy.system.kafka
        ours = [r for r in await read_topic(kafka, kafka.topic_dlq) if r.key == key.encode()]
        return ours if len(ours) == len(garbage) else None

    letters = await eventually(dead_letters, what="the dead letters")
    reasons = {}
    for (what, raw), sent, letter in zip(garbage.items(), dumped, letters, strict=True):
        headers = {name: value.decode() for name, value in letter.headers}
        assert letter.value == raw, what
        assert headers["dlq.original.topic"] == canopy.system.kafka.topic_upstream, what
        assert headers["dlq.original.partition"] == str(sent.partition), what
        assert headers["dlq.original.offset"] == str(sent.offset), what
        assert headers["dlq.consumer.group"] == canopy.system.consumer_groups["ingestion"], what
        assert headers["dlq.timestamp"], what
        reasons[what] = (
            headers["dlq.error.class"].rsplit(".", 1)[-1],
            headers["dlq.error.message"],
        )
    assert reasons["not JSON"][0] == "InvalidJSON"
    assert reasons["not AS2"][0] == "InvalidActivity"
    assert "published" in reasons["not AS2"][1]
    assert reasons["no tenant"][0] == "InvalidActivity"
    assert "tenant" in reasons["no tenant"][1]
