"""Audit entries of privileged actions taken outside ingestion (docs/architecture.md §14).

A process that acts outside ingestion — the DLQ replay command, analytics answering a CSV
export — publishes one :class:`AuditEvent` per tenant concerned on ``canopy.audit.v1``, keyed
by the tenant; ingestion's consumer records each in its audit log, once per entry id. So the
log stays one table behind one route, and no service writes another's schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from canopy_common.principal import TENANT_ID_PATTERN

# An entry is a few names and a small JSON object; anything bigger is not an audit entry.
MAX_ENTRY_BYTES = 64 * 1024
# Printable text only: an actor or target is shown in a table and written into CSV.
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class OutsideAction(StrEnum):
    """The only actions an entry on the topic may name; ingestion's ``AuditAction`` holds
    each of them too. Anything else on the topic is refused (dead-lettered): a producer of
    this topic must not be able to forge, say, a ``user.erase``."""

    DLQ_REPLAY = "dlq.replay"
    ANALYTICS_EXPORT = "analytics.export"
    SEARCH_SETTINGS = "search.settings"  # a tenant admin changed the search language


# An operator running a command is no person of any tenant: their actor name says so.
OPERATOR_ACTOR_PREFIX = "operator:"


def operator_actor(login: str) -> str:
    """The actor of an operator's command: ``operator:<login>``."""
    return f"{OPERATOR_ACTOR_PREFIX}{login}"


class AuditEvent(BaseModel):
    """One audit entry for one tenant: ``actor`` did ``action`` to ``target`` at ``at``.

    ``id`` makes recording idempotent (a redelivered entry is recorded once); ``details`` is
    JSON saying what was done (ids, counts, filters), never a person's profile.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: uuid.UUID
    tenant: Annotated[str, Field(pattern=TENANT_ID_PATTERN)]
    actor: Annotated[str, Field(min_length=1, max_length=300, pattern=_PRINTABLE)]
    action: OutsideAction
    target: Annotated[str, Field(min_length=1, max_length=500, pattern=_PRINTABLE)]
    details: dict[str, Any]
    at: AwareDatetime


def audit_event(
    *,
    tenant: str,
    actor: str,
    action: OutsideAction,
    target: str,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """A new entry with a fresh id, taken now unless ``at`` says when. Raises
    ``pydantic.ValidationError`` for values the consumer would refuse."""
    return AuditEvent(
        id=uuid.uuid4(),
        tenant=tenant,
        actor=actor,
        action=action,
        target=target,
        details=dict(details or {}),
        at=at or datetime.now(UTC),
    )


class InvalidAuditEvent(ValueError):
    """A record of the audit topic that is no valid entry (poison: the consumer
    dead-letters it, with this message as the reason)."""


def decode_audit_event(raw: bytes | None) -> AuditEvent:
    """The entry in a record's value, checked strictly; :class:`InvalidAuditEvent` says
    why it is not one."""
    if raw is None:
        raise InvalidAuditEvent("an audit entry needs a value")
    if len(raw) > MAX_ENTRY_BYTES:
        raise InvalidAuditEvent(f"an audit entry is at most {MAX_ENTRY_BYTES} bytes")
    try:
        return AuditEvent.model_validate_json(raw)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'entry'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise InvalidAuditEvent(f"not an audit entry: {reasons}") from None


def encode_audit_event(event: AuditEvent) -> bytes:
    """The bytes of ``event`` on the topic (what :func:`decode_audit_event` reads back)."""
    return orjson.dumps(event.model_dump(mode="json"))


class Sender(Protocol):
    """What publishing needs of a :class:`canopy_common.kafka_producer.Producer` (named so,
    this module stays pure: ingestion's domain takes its action names from here)."""

    async def send(self, topic: str, value: bytes, *, key: str) -> object: ...


async def publish_audit_events(producer: Sender, topic: str, events: Iterable[AuditEvent]) -> None:
    """Publish each entry keyed by its tenant (one tenant's entries stay in order), each
    acknowledged before the next; raises when the broker does not take one, so the caller
    can refuse an action that would otherwise go unrecorded."""
    for event in events:
        await producer.send(topic, encode_audit_event(event), key=event.tenant)
