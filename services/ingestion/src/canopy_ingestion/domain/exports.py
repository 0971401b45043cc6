"""A person's data export (GDPR art. 15/20; docs/architecture.md §16 "Export"): who may
export whom, when an export is whole, and the one document it answers. No I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from canopy_common.errors import Forbidden
from canopy_common.exports import EXPORT_FORMAT, SECTIONS
from canopy_ingestion.domain.model import User

#: The section ingestion builds itself, in the request's transaction.
OWN_SECTION = "ingestion"


class Exporter(StrEnum):
    """Who asks for a person's export."""

    SELF = "self"
    TENANT_ADMIN = "tenant_admin"


def exporter_of(caller: User, subject_id: str, *, tenant_admin: bool) -> Exporter | None:
    """Whether ``caller`` may export ``subject_id``'s data, and as whom: the person
    themselves, or a tenant admin of their tenant (audited); None for anyone else."""
    if caller.id == subject_id:
        return Exporter.SELF
    return Exporter.TENANT_ADMIN if tenant_admin else None


def refusal(subject_id: str) -> Forbidden:
    """The 403 of someone who sees the person but may not export them (one who does not see
    them gets the 404 of the profile instead)."""
    return Forbidden(f"only {subject_id!r} or a tenant admin may export {subject_id!r}'s data")


@dataclass(frozen=True, slots=True)
class ExportState:
    """An export as stored: whose, asked by whom and when, and which sections are in."""

    tenant_id: str
    id: uuid.UUID
    subject_id: str
    requested_by: str
    requested_at: datetime
    completed_at: datetime | None
    sections: frozenset[str]

    @property
    def complete(self) -> bool:
        return self.completed_at is not None

    def summary(self) -> dict[str, Any]:
        """What the document and the 202 answer say about the export itself."""
        return {
            "id": str(self.id),
            "format": EXPORT_FORMAT,
            "tenant": self.tenant_id,
            "subject": self.subject_id,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at,
            "completed_at": self.completed_at,
            "sections": {name: name in self.sections for name in SECTIONS},
        }


def document(state: ExportState, sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The export as one JSON document: what it is, then every service's section by name,
    in a stable order."""
    return {
        "export": state.summary(),
        "sections": {name: sections[name] for name in SECTIONS if name in sections},
    }


def file_name(state: ExportState) -> str:
    """The download's name: ids and a date only (no person's name or id, whatever
    characters those hold)."""
    return f"canopy-export-{state.requested_at:%Y-%m-%d}-{state.id}.json"
