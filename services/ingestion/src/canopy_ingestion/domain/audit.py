"""The audit log's vocabulary and reading rules (docs/architecture.md §14): the actions it
records, the filters and cursor of ``GET /v1/audit``, and an entry as a CSV line."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from canopy_common import cursors
from canopy_common.audit_events import OutsideAction
from canopy_ingestion.domain.model import User


class AuditAction(StrEnum):
    """Every privileged action the audit log records: ``<subject>.<verb>``.

    New privileged actions add their name here (one owner for the names tenant admins filter
    on) and call :func:`canopy_ingestion.adapters.audit.record` in their own transaction.
    Actions taken outside ingestion arrive as entries on ``canopy.audit.v1`` and may name
    only an :class:`~canopy_common.audit_events.OutsideAction` (docs/architecture.md §14).
    """

    TENANT_CREATE = "tenant.create"
    TENANT_RENAME = "tenant.rename"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_ROLES = "user.roles"  # the person's tenant roles changed (with or without a profile)
    USER_ERASE = "user.erase"
    USER_DEACTIVATE = "user.deactivate"  # a leaver: content stays, may not act
    USER_REACTIVATE = "user.reactivate"
    USER_EXPORT = "user.export"  # a tenant admin took someone else's data export
    POST_DELETE = "post.delete"  # by a moderator or a group admin, not by its author
    # A tenant admin edits, archives or unarchives a group they do not administer.
    GROUP_UPDATE = "group.update"
    GROUP_ARCHIVE = "group.archive"
    GROUP_UNARCHIVE = "group.unarchive"
    MODERATION_DECISION = "moderation.decision"
    POLICY_UPDATE = "policy.update"
    # Recorded from canopy.audit.v1: an operator's DLQ replay, an analytics CSV answer, a
    # change of the search language.
    DLQ_REPLAY = OutsideAction.DLQ_REPLAY.value
    ANALYTICS_EXPORT = OutsideAction.ANALYTICS_EXPORT.value
    SEARCH_SETTINGS = OutsideAction.SEARCH_SETTINGS.value


# An operator or a platform admin is no person of the tenant: their actor names say so.
PLATFORM_ACTOR_PREFIX = "platform:"


def platform_actor(name: str) -> str:
    """The actor of an action taken from outside the tenant (a platform admin, an operator)."""
    return f"{PLATFORM_ACTOR_PREFIX}{name}"


@dataclass(frozen=True, slots=True)
class Planned:
    """An entry an action will record: what, to whom, with which details."""

    action: AuditAction
    target: str
    details: Mapping[str, Any]


# The profile fields an update entry names when they change (names only: values are personal
# data, and an erasure must not leave them behind in the log).
_PROFILE_FIELDS = (
    "handle",
    "display_name",
    "title",
    "department",
    "location",
    "skills",
    "interests",
    "kind",
    "manager_id",
    "email",
)


def provisioning_entries(existing: User | None, wanted: User) -> list[Planned]:
    """What provisioning ``wanted`` over ``existing`` records: a ``user.create`` (a new or
    re-provisioned person) or a ``user.update`` naming the changed fields, a ``user.roles``
    when their tenant roles change, and a ``user.deactivate`` or ``user.reactivate`` when
    their standing does. Nothing for an unchanged profile."""
    entries: list[Planned] = []
    if existing is None or existing.erased:
        details: dict[str, Any] = {"kind": wanted.kind.value}
        entries.append(Planned(AuditAction.USER_CREATE, wanted.id, details))
        before: tuple[str, ...] = ()
    else:
        changed = [f for f in _PROFILE_FIELDS if getattr(existing, f) != getattr(wanted, f)]
        if changed:
            entries.append(Planned(AuditAction.USER_UPDATE, wanted.id, {"fields": changed}))
        before = existing.roles
    if tuple(before) != tuple(wanted.roles):
        roles = {"from": list(before), "to": list(wanted.roles)}
        entries.append(Planned(AuditAction.USER_ROLES, wanted.id, roles))
    if existing is not None and not existing.erased and existing.active != wanted.active:
        action = AuditAction.USER_REACTIVATE if wanted.active else AuditAction.USER_DEACTIVATE
        entries.append(Planned(action, wanted.id, {}))
    return entries


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    tenant_id: str
    at: datetime
    actor: str
    action: str
    target: str
    details: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What a tenant admin asks for: entries newest first, after ``before_seq`` (a cursor)."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    before_seq: int | None = None


CSV_COLUMNS = ("at", "actor", "action", "target", "details")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such a
# value is written with a leading apostrophe, which spreadsheets show as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_line(entry: AuditEntry) -> str:
    """One entry as a CSV line (RFC 4180, ``\\r\\n``); details as compact JSON."""
    return _csv_line(
        (
            entry.at.isoformat(),
            entry.actor,
            entry.action,
            entry.target,
            orjson.dumps(entry.details, option=orjson.OPT_SORT_KEYS).decode(),
        )
    )


def _csv_line(values: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(
        f"'{value}" if value.startswith(_FORMULA_STARTS) else value for value in values
    )
    return out.getvalue()


def encode_cursor(seq: int) -> str:
    """An opaque cursor for the page after the entry ``seq``."""
    return cursors.encode_cursor(seq)


def decode_cursor(cursor: str) -> int:
    """The position in a cursor from :func:`encode_cursor`; 400 for anything else."""
    (before,) = cursors.decode_cursor(cursor, (int,))
    if before < 1:
        raise cursors.BadCursor()
    return int(before)
