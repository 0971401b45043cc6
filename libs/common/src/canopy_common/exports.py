"""A person's data export (GDPR art. 15 and 20) gathered from every service over Kafka
(docs/architecture.md §16, "Export").

No service reads another's schema or calls another (§1), so ingestion, which serves
``GET /v1/users/{id}/export``, asks the others on ``canopy.exports.v1``: one
:class:`ExportRequest` per export, published through its outbox. Fanout, notify and analytics
each consume the requests (a consumer group of their own,
:func:`canopy_common.export_answers.request_handler`), build their **section** — what they
hold about the person, with their own SQL over their own schema — and publish it on
``canopy.export-parts.v1`` as :class:`ExportPart` records. A section larger than
:data:`CHUNK_BYTES` is cut into chunks, so no record comes near the broker's default limit of
1 MiB per message; ingestion stores the chunks and joins them (:func:`joined_section`) once
one build of a section is whole.

Both records are keyed ``tenant:export id`` (:func:`record_key`), so every part of one export
lands on one partition of the parts topic. A build is named by its ``part_id``: a redelivered
request builds the section again under a new id, and ingestion keeps the first build that is
whole. Each section names its service and says when it was built (``service``,
``generated_at``), and holds what that service had applied by then.

This module is pure (models, codec, chunks): ingestion's domain takes its names from here.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from canopy_common.principal import TENANT_ID_PATTERN

#: The ``format`` of the document ``GET /v1/users/{id}/export`` answers.
EXPORT_FORMAT = "canopy.export.v1"
# Raw section bytes per chunk: base64 makes 4/3 of it, so a chunk's record stays near 700 KiB,
# under the 1 MiB a broker (message.max.bytes) and a producer (max_request_size) accept by
# default, with room for the envelope.
CHUNK_BYTES = 512 * 1024
# 512 MiB of one service's section: far beyond any person's data; a larger count is a bug.
MAX_CHUNKS = 1024
MAX_RECORD_BYTES = 1024 * 1024
USER_ID_MAX_LENGTH = 255  # a token's `sub`


class ExportService(StrEnum):
    """The services that answer export requests with a section (ingestion builds its own)."""

    FANOUT = "fanout"
    NOTIFY = "notify"
    ANALYTICS = "analytics"


#: Every section of a whole export, in the document's order.
SECTIONS = ("ingestion", *(service.value for service in ExportService))

_Tenant = Annotated[str, Field(pattern=TENANT_ID_PATTERN)]
_Subject = Annotated[str, Field(min_length=1, max_length=USER_ID_MAX_LENGTH)]


class ExportRequest(BaseModel):
    """Ingestion's request to every :class:`ExportService`: build ``subject``'s section of
    export ``id``. A request read after ``expires_at`` (the export is purged by then) is
    skipped."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: uuid.UUID
    tenant: _Tenant
    subject: _Subject
    requested_at: AwareDatetime
    expires_at: AwareDatetime

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the export this asks for is past its retention."""
        return (now or datetime.now(UTC)) >= self.expires_at


class ExportPart(BaseModel):
    """Chunk ``chunk`` (from 0) of ``chunks`` of one build (``part_id``) of ``service``'s
    section of export ``export_id``; ``data`` is base64 of the chunk's bytes of the section's
    JSON text."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    export_id: uuid.UUID
    tenant: _Tenant
    subject: _Subject
    service: ExportService
    part_id: uuid.UUID
    generated_at: AwareDatetime
    chunk: Annotated[int, Field(ge=0, lt=MAX_CHUNKS)]
    chunks: Annotated[int, Field(ge=1, le=MAX_CHUNKS)]
    data: Annotated[str, Field(max_length=MAX_RECORD_BYTES)]


class InvalidExportRecord(ValueError):
    """A record of an export topic that is no valid request or part (poison: the consumer
    dead-letters it with this message as the reason)."""


def new_request(tenant: str, subject: str, *, retention_s: float) -> ExportRequest:
    """A request for a new export of ``subject``, kept ``retention_s`` from now."""
    now = datetime.now(UTC)
    return ExportRequest(
        id=uuid.uuid4(),
        tenant=tenant,
        subject=subject,
        requested_at=now,
        expires_at=now + timedelta(seconds=retention_s),
    )


def record_key(tenant: str, export_id: uuid.UUID) -> str:
    """``tenant:export id``, the key of an export's request and of all its parts."""
    return f"{tenant}:{export_id}"


def encode_request(request: ExportRequest) -> bytes:
    """The bytes of ``request`` on ``canopy.exports.v1``."""
    return orjson.dumps(request.model_dump(mode="json"))


def encode_part(part: ExportPart) -> bytes:
    """The bytes of ``part`` on ``canopy.export-parts.v1``."""
    return orjson.dumps(part.model_dump(mode="json"))


_Model = TypeVar("_Model", bound=BaseModel)


def _decoded(model: type[_Model], raw: bytes | None, what: str) -> _Model:
    if not raw:
        raise InvalidExportRecord(f"an export {what} needs a value")
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidExportRecord(f"an export {what} is at most {MAX_RECORD_BYTES} bytes")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or what}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise InvalidExportRecord(f"not an export {what}: {reasons}") from None


def decode_request(key: bytes | None, value: bytes | None) -> ExportRequest:
    """The request in a record (``key``, ``value``), checked strictly (its key too);
    :class:`InvalidExportRecord` says why it is none."""
    request = _decoded(ExportRequest, value, "request")
    _check_key(key, request.tenant, request.id)
    return request


def decode_part(key: bytes | None, value: bytes | None) -> ExportPart:
    """The part in a record (``key``, ``value``), checked strictly (its key and its chunk
    number too); :class:`InvalidExportRecord` says why it is none."""
    part = _decoded(ExportPart, value, "part")
    _check_key(key, part.tenant, part.export_id)
    if part.chunk >= part.chunks:
        raise InvalidExportRecord(f"chunk {part.chunk} of {part.chunks}: numbered from 0")
    return part


def _check_key(key: bytes | None, tenant: str, export_id: uuid.UUID) -> None:
    if key != record_key(tenant, export_id).encode():
        # Always keyed so; another key says the producer is not ours.
        raise InvalidExportRecord(f"an export record of tenant {tenant!r} keyed otherwise")


def section_parts(
    service: ExportService,
    request: ExportRequest,
    section: Mapping[str, Any],
    *,
    generated_at: datetime | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> list[ExportPart]:
    """``section`` (JSON-able: rows, dates, ids) as the parts of one build, with ``service``
    and ``generated_at`` (default now) first in it; as many chunks as its JSON text needs."""
    generated_at = generated_at or datetime.now(UTC)
    document = {"service": service.value, "generated_at": generated_at, **section}
    text = orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
    pieces = [text[start : start + chunk_bytes] for start in range(0, len(text), chunk_bytes)]
    if len(pieces) > MAX_CHUNKS:
        raise ValueError(f"a section of {len(text)} bytes needs more than {MAX_CHUNKS} chunks")
    part_id = uuid.uuid4()
    return [
        ExportPart(
            export_id=request.id,
            tenant=request.tenant,
            subject=request.subject,
            service=service,
            part_id=part_id,
            generated_at=generated_at,
            chunk=index,
            chunks=len(pieces),
            data=base64.b64encode(piece).decode("ascii"),
        )
        for index, piece in enumerate(pieces)
    ]


def chunk_bytes(part: ExportPart) -> bytes:
    """The section bytes ``part`` carries; :class:`InvalidExportRecord` when ``data`` is no
    base64."""
    try:
        return base64.b64decode(part.data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidExportRecord("an export part's data is not base64") from None


def joined_section(chunks: Sequence[bytes]) -> dict[str, Any]:
    """The section whose chunk bytes are ``chunks``, in order; :class:`InvalidExportRecord`
    when they do not make one JSON object."""
    try:
        section = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise InvalidExportRecord(f"an export section is not JSON: {exc}") from None
    if not isinstance(section, dict):
        raise InvalidExportRecord("an export section is a JSON object")
    return section
