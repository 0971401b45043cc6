"""Moderation (docs/architecture.md §4.5): the flags of a post form one case, and a moderator's
decision resolves the case's open flags together. Pure: the queue's cursor, the decision's
names, and the activity that tells the reporters and the author.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from canopy_common import cursors
from canopy_common.events import Visibility
from canopy_common.iris import user_iri
from canopy_ingestion.domain.activities import CanonicalActivity, activity
from canopy_ingestion.domain.model import Post, User

MAX_NOTE_CHARS: Final = 1_000  # a moderator's reason, like a report's


class Resolution(StrEnum):
    """What a moderator decides about a case."""

    DISMISS = "dismiss"  # nothing wrong: the post stays
    REMOVE = "remove"  # the post is deleted (the ordinary Delete of its Tombstone)
    WARN = "warn"  # the post stays; its author gets a warning on record


# The Flag's `status` in the decision's Update: what happened to the report.
FLAG_STATUS: Final = {
    Resolution.DISMISS: "dismissed",
    Resolution.REMOVE: "removed",
    Resolution.WARN: "warned",
}


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where a page of the queue ends: the last case's first flag (time, id)."""

    at: datetime
    flag_id: str


def encode_cursor(position: QueuePosition) -> str:
    """An opaque cursor for the page after ``position``."""
    return cursors.encode_cursor(position.at, position.flag_id)


def decode_cursor(cursor: str) -> QueuePosition:
    """The position in a cursor from :func:`encode_cursor`; 400 for anything else."""
    at, flag_id = cursors.decode_cursor(cursor, (datetime, str))
    return QueuePosition(at, flag_id)


def reporters_told(reporter_ids: list[str], author_id: str) -> list[str]:
    """The people who reported the post, each once, in report order (the content policy's
    flags carry the author as reporter: they reported nothing)."""
    seen: dict[str, None] = {}
    for reporter in reporter_ids:
        if reporter != author_id:
            seen.setdefault(reporter, None)
    return list(seen)


def decision_activity(
    moderator: User,
    post: Post,
    *,
    case_id: str,
    resolution: Resolution,
    note: str | None,
    reporters: list[str],
    decision_id: str,
) -> CanonicalActivity:
    """The decision as AS2: an ``Update`` of the case's ``Flag`` whose ``status`` says what
    became of it, the moderator's note as ``content``, addressed (visibility ``direct``) to
    the reporters and, unless dismissed, the author. Consumers that keep feeds or counts find
    no post in it and leave it alone; notify tells the people in ``to``."""
    tenant = post.tenant_id
    author = user_iri(tenant, post.author_id)
    told = [user_iri(tenant, uid) for uid in reporters]
    if resolution is not Resolution.DISMISS:
        told.append(author)
    report: dict[str, Any] = {
        "type": "Flag",
        "id": case_id,
        "object": {"type": post.as2_type, "id": post.id, "attributedTo": author},
        "status": FLAG_STATUS[resolution],
    }
    return activity(
        "Update",
        actor=moderator,
        obj=report,
        visibility=Visibility.DIRECT.value,
        to=told or None,
        activity_id=decision_id,
        content=note,
        context=post.thread_id,
    )
