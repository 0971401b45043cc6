"""The recipient pipeline (docs/architecture.md §6). Pure: everything it needs comes in as data.

dedupe → never the actor → never someone who cannot see the object → preferences → mutes →
grouping. Each candidate comes out as a :class:`Decision`: told (with the channels and the
group key), or suppressed with the reason (counted in metrics).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from canopy_common.visibility import NO_TIES, Reader, Ties, may_see
from canopy_notify.domain.model import (
    GROUPED,
    PRECEDENCE,
    URGENT,
    Candidate,
    Channel,
    NoticeType,
    Occurrence,
)
from canopy_notify.domain.preferences import Resolved, channels, is_locked


class Suppressed(StrEnum):
    DUPLICATE = "duplicate"  # a more specific reason already tells them
    ACTOR = "actor"  # nobody is told about what they did themselves
    INVISIBLE = "invisible"  # they may not see the object, or a block stands between them
    PREFERENCES = "preferences"  # every channel is off for the category
    MUTED = "muted"  # the thread, group or actor is muted


@dataclass(frozen=True, slots=True)
class Mute:
    kind: str  # thread | group | actor
    target_id: str
    until: datetime | None = None

    def active(self, at: datetime) -> bool:
        return self.until is None or self.until > at


@dataclass(frozen=True, slots=True)
class Recipient:
    """One candidate as the pipeline needs them: who they are, their relations to the object
    and the actor, their resolved preferences and their mutes."""

    reader: Reader
    prefs: Resolved
    ties: Ties = NO_TIES
    blocks_actor: bool = False  # a block between them and the actor, either way
    mutes: tuple[Mute, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    candidate: Candidate
    suppressed: Suppressed | None = None
    channels: frozenset[Channel] = frozenset()
    group_key: str = ""
    urgent: bool = False

    @property
    def told(self) -> bool:
        return self.suppressed is None


def decide(
    occ: Occurrence, candidates: Iterable[Candidate], recipients: Mapping[str, Recipient]
) -> list[Decision]:
    """Run every candidate through the pipeline; one decision each, in candidate order.

    ``recipients`` holds every candidate's :class:`Recipient`; one missing is someone the
    service has not heard of, who is told nothing (fail closed).
    """
    best = _most_specific(candidates)
    decisions = []
    for candidate in candidates:
        if best[candidate.recipient] != candidate.type:
            decisions.append(Decision(candidate, Suppressed.DUPLICATE))
            continue
        decisions.append(_decide_one(occ, candidate, recipients.get(candidate.recipient)))
        best[candidate.recipient] = None  # the same reason twice counts once
    return decisions


def _decide_one(occ: Occurrence, candidate: Candidate, recipient: Recipient | None) -> Decision:
    if candidate.recipient == occ.actor_id:
        return Decision(candidate, Suppressed.ACTOR)
    moderating = candidate.type is NoticeType.FLAG  # moderators see every post
    if recipient is None or not _sees(occ, recipient, moderating=moderating):
        return Decision(candidate, Suppressed.INVISIBLE)
    told_on = channels(recipient.prefs, candidate.category)
    if not told_on:
        return Decision(candidate, Suppressed.PREFERENCES)
    if not is_locked(recipient.prefs, candidate.category) and _muted(occ, recipient.mutes):
        return Decision(candidate, Suppressed.MUTED)
    return Decision(
        candidate,
        channels=told_on,
        group_key=group_key(candidate.type, occ),
        urgent=candidate.type in URGENT,
    )


def _most_specific(candidates: Iterable[Candidate]) -> dict[str, NoticeType | None]:
    rank = {type_: n for n, type_ in enumerate(PRECEDENCE)}
    best: dict[str, NoticeType | None] = {}
    for c in candidates:
        current = best.get(c.recipient)
        if current is None or rank[c.type] < rank[current]:
            best[c.recipient] = c.type
    return best


def _sees(occ: Occurrence, recipient: Recipient, *, moderating: bool = False) -> bool:
    if not recipient.reader.active:
        return False
    if moderating:
        return True
    if recipient.blocks_actor:
        return False
    return occ.item is None or may_see(recipient.reader, occ.item, recipient.ties)


def _muted(occ: Occurrence, mutes: Iterable[Mute]) -> bool:
    targets = {"thread": occ.thread_id, "group": occ.group_id, "actor": occ.actor_id}
    return any(
        mute.active(occ.published) and targets.get(mute.kind) == mute.target_id for mute in mutes
    )


def group_key(type_: NoticeType, occ: Occurrence) -> str:
    """Notifications with the same key within the grouping window are one: reactions to and
    shares of one post, new followers; anything else stands alone."""
    if type_ is NoticeType.FOLLOW:
        return "follow"
    if type_ in GROUPED:
        return f"{type_}:{occ.object_id}"
    return f"{type_}:{occ.activity_id}"
