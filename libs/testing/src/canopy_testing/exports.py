"""Asking a running service for its section of a person's data export, as ingestion does
(docs/architecture.md §16 "Export"): publish an :class:`ExportRequest` on the service's
exports topic, then read its parts back from the parts topic and join them."""

from __future__ import annotations

from typing import Any

from canopy_common.exports import (
    ExportService,
    chunk_bytes,
    decode_part,
    encode_request,
    joined_section,
    new_request,
    record_key,
)
from canopy_common.kafka import Producer
from canopy_common.settings import KafkaSettings
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually


async def exported_section(
    kafka: KafkaSettings, producer: Producer, service: ExportService, tenant: str, subject: str
) -> dict[str, Any]:
    """``service``'s section of a new export of ``subject``, once the service has published
    one whole build of it."""
    request = new_request(tenant, subject, retention_s=3600)
    key = record_key(tenant, request.id)
    await producer.send(kafka.topic_exports, encode_request(request), key=key)

    async def whole() -> dict[str, Any] | None:
        parts = [
            decode_part(record.key, record.value)
            for record in await read_topic(kafka, kafka.topic_export_parts)
            if record.key == key.encode()
        ]
        mine = [part for part in parts if part.service is service]
        if not mine or len(mine) < mine[0].chunks:
            return None
        first = [part for part in mine if part.part_id == mine[0].part_id]
        return joined_section([chunk_bytes(p) for p in sorted(first, key=lambda p: p.chunk)])

    section: dict[str, Any] = await eventually(whole, what=f"{service}'s export section")
    return section
