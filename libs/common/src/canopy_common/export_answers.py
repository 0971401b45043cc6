"""Answering a person's data export request (docs/architecture.md §16 "Export"): what
fanout, notify and analytics each run on ``canopy.exports.v1`` (the records are
:mod:`canopy_common.exports`).

A service declares its section as named :class:`SectionQuery` entries over its own schema
(most of them :func:`table_rows`) and adds :func:`export_consumer` to its consumers; the
handler reads them in one read-only snapshot and publishes the section's parts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import structlog

from canopy_common.consuming import ConsumedRecord, Handler
from canopy_common.db import Connection
from canopy_common.exports import (
    ExportPart,
    ExportRequest,
    ExportService,
    decode_request,
    encode_part,
    record_key,
    section_parts,
)
from canopy_common.runtime import Runtime
from canopy_common.service import ConsumerSpec

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SectionQuery:
    """One entry of a section: SQL over the service's own schema taking ``$1`` the tenant and
    ``$2`` the person, answering one JSON value per row (``to_jsonb(t) - 'tenant_id'``), in a
    stable order. ``single``: the entry is the first row's value (or null), not a list."""

    sql: str
    single: bool = False


def table_rows(table: str, where: str, order: str) -> SectionQuery:
    """The person's rows of ``table`` (alias ``t``; ``where`` names ``$2``, the person),
    whole but for the tenant, in ``order``."""
    return SectionQuery(
        f"SELECT to_jsonb(t) - 'tenant_id' FROM {table} t "
        f"WHERE t.tenant_id = $1 AND {where} ORDER BY {order}"
    )


async def rows_section(
    conn: Connection, queries: Mapping[str, SectionQuery], request: ExportRequest
) -> dict[str, Any]:
    """Each of ``queries`` run for the request's tenant and person, by name."""
    section: dict[str, Any] = {}
    for name, query in queries.items():
        rows = await conn.fetch(query.sql, request.tenant, request.subject)
        values = [row[0] for row in rows]
        section[name] = (values[0] if values else None) if query.single else values
    return section


SectionBuilder = Callable[[Connection, ExportRequest], Awaitable[Mapping[str, Any]]]


class Sender(Protocol):
    """What answering needs of a :class:`canopy_common.kafka_producer.Producer`."""

    async def send(self, topic: str, value: bytes, *, key: str) -> object: ...


async def answer(
    request: ExportRequest,
    *,
    service: ExportService,
    pool: asyncpg.Pool,
    producer: Sender,
    topic: str,
    build: SectionBuilder,
) -> list[ExportPart]:
    """Build ``service``'s section for ``request`` in one read-only snapshot (every entry
    as of one moment) and publish its parts, each acknowledged before the next; the parts
    published (none for an expired request)."""
    if request.expired():
        log.info("export request expired, skipped", tenant=request.tenant, export=str(request.id))
        return []
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        generated_at = datetime.now(UTC)
        section = await build(conn, request)
    parts = section_parts(service, request, section, generated_at=generated_at)
    key = record_key(request.tenant, request.id)
    for part in parts:
        await producer.send(topic, encode_part(part), key=key)
    log.info(
        "export section published",
        tenant=request.tenant,
        export=str(request.id),
        service=service.value,
        chunks=len(parts),
    )
    return parts


def request_handler(
    *,
    service: ExportService,
    pool: asyncpg.Pool,
    producer: Sender,
    topic: str,
    build: SectionBuilder,
) -> Handler:
    """The consumer handler of ``canopy.exports.v1`` for ``service`` (see :func:`answer`);
    a record that is no request is poison. Answering again after a redelivery is harmless:
    ingestion keeps the first whole build."""

    async def handle(record: ConsumedRecord) -> None:
        await answer(
            decode_request(record.key, record.value),
            service=service,
            pool=pool,
            producer=producer,
            topic=topic,
            build=build,
        )

    return handle


class WithRuntime(Protocol):
    """Collaborators holding the service's runtime (its pool, producer and settings)."""

    @property
    def runtime(self) -> Runtime[Any]: ...


def export_consumer(
    service: ExportService, queries: Mapping[str, SectionQuery]
) -> ConsumerSpec[Any]:
    """The consumer answering ``service``'s export requests with ``queries``, in a consumer
    group of its own (``<group>.exports``): requests never wait behind the service's main
    topic, and its rebalances never stop that one."""

    def handler(collaborators: WithRuntime) -> Handler:
        runtime = collaborators.runtime
        return request_handler(
            service=service,
            pool=runtime.pool,
            producer=runtime.producer,
            topic=runtime.settings.kafka.topic_export_parts,
            build=lambda conn, request: rows_section(conn, queries, request),
        )

    return ConsumerSpec(
        name="exports",
        topics=lambda settings: [settings.kafka.topic_exports],
        handler=handler,
        group_suffix="exports",
    )
