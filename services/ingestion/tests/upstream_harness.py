"""Feeding the upstream topic from tests: AS2 records as other systems send them, waiting for
the worker to handle them, and what came out (published activities, dead letters).

Shared by the upstream tests (importable by name: ``pythonpath``); the ``upstream`` and ``hr``
fixtures that use it are in ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from ingestion_harness import Api

from canopy_common.events import decode_activity
from canopy_common.iris import user_iri
from canopy_common.kafka import Delivery, Producer
from canopy_testing.kafka import committed_offsets, read_topic
from canopy_testing.polling import eventually

AS2 = "https://www.w3.org/ns/activitystreams"


async def handled(api: Api, sent: Sequence[Delivery]) -> bool:
    """Whether the worker has committed past every record in ``sent``.

    Offsets come from the producer's acknowledgements: exactly the records this test sent,
    whatever else the shared topic holds.
    """
    kafka = api.settings.kafka
    committed = await committed_offsets(kafka, api.settings.consumer_group, kafka.topic_upstream)
    return all(committed.get(d.partition, 0) > d.offset for d in sent)


async def send(producer: Producer, api: Api, tenant: str, doc: dict[str, Any] | bytes) -> None:
    """Produce one upstream record and wait until the worker has handled it."""
    value = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    sent = await producer.send(api.settings.kafka.topic_upstream, value, key=f"{tenant}:upstream")
    await eventually(lambda: handled(api, [sent]), what="the upstream record to be handled")


def person_doc(tenant: str, user_id: str, handle: str, **profile: Any) -> dict[str, Any]:
    """A Person as an HR system sends it."""
    return {
        "type": "Person",
        "id": user_iri(tenant, user_id),
        "preferredUsername": handle,
        "name": handle.title(),
        **profile,
    }


async def published(api: Api, tenant: str) -> list[Any]:
    """The canonical activities the tenant's upstream records became, oldest first."""
    return [decode_activity(row["payload"]) for row in await api.outbox(tenant)]


async def dead_letters(api: Api, tenant: str) -> list[dict[str, bytes]]:
    """The headers of the tenant's dead-lettered records."""
    records = await read_topic(api.settings.kafka, api.settings.kafka.topic_dlq)
    return [dict(r.headers) for r in records if r.key and r.key.decode().startswith(f"{tenant}:")]


async def dead_letter_reasons(api: Api, tenant: str) -> list[tuple[str, str]]:
    """(error class, message) of each of the tenant's dead-lettered records."""
    return [
        (h["dlq.error.class"].decode().rsplit(".", 1)[-1], h["dlq.error.message"].decode())
        for h in await dead_letters(api, tenant)
    ]
