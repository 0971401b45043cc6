"""Routing an unanswered question to the people most likely to answer it (docs/architecture.md
§6 and §17 "Routing questions to experts"). Pure.

Analytics ranks the likely answerers of each new question (``canopy.question-experts.v1``);
notify decides the rest. A question is armed when created, due :func:`due_at` the tenant's
delay later. When due it is routed unless a live answer came meanwhile: its candidates, best
first, go through the recipient pipeline like anyone a rule picked (never the asker, never
someone who may not see the question or who muted its group, thread or asker, preferences),
and the first :data:`MAX_ROUTED` told get a ``question_routed`` notification saying why they
were chosen. Candidates not arrived by then are waited for :data:`RETRY_S` at a time, at most
:data:`MAX_ATTEMPTS` times. Each question is decided once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from canopy_common.audience import Item
from canopy_common.events import Visibility
from canopy_common.question_experts import Expert
from canopy_notify.domain.model import Candidate, NoticeType
from canopy_notify.domain.pipeline import Decision

#: Told per question: enough to get an answer, few enough not to make it everyone's chore.
MAX_ROUTED: Final = 3
#: Candidates late when the question comes due: looked for again this much later ...
RETRY_S: Final = 60
#: ... this many times, then the question is given up (logged and counted).
MAX_ATTEMPTS: Final = 10

HOUR_S = 3_600
DAY_S = 86_400
MIN_DELAY_S: Final = 60  # sooner, the asker's colleagues had no chance to answer yet
MAX_DELAY_S: Final = 30 * DAY_S  # later, the question is stale


class Outcome(StrEnum):
    """How a question's route was decided (the metric's label and the row's ``outcome``)."""

    ROUTED = "routed"  # someone was told
    NOBODY = "nobody"  # candidates came, none passed the pipeline
    ANSWERED = "answered"  # a live answer came before the delay ran out
    DELETED = "deleted"  # the question was deleted first
    NO_CANDIDATES = "no_candidates"  # the ranking never came: given up
    OFF = "off"  # the tenant routes no questions (delay 0)
    RETRIED = "retried"  # not a decision: due before its candidates, armed again


def due_at(published: datetime, delay_s: int) -> datetime | None:
    """When a question published at ``published`` is routed; None when ``delay_s`` is 0
    (routing off)."""
    return published + timedelta(seconds=delay_s) if delay_s > 0 else None


def retry_at(now: datetime, attempts: int) -> datetime | None:
    """When to look again for candidates late at ``now`` after ``attempts`` earlier tries;
    None: give up."""
    return now + timedelta(seconds=RETRY_S) if attempts < MAX_ATTEMPTS else None


def candidates_of(experts: Iterable[Expert]) -> list[Candidate]:
    """The ranking as pipeline candidates, best first."""
    return [Candidate(expert.user_id, NoticeType.QUESTION_ROUTED) for expert in experts]


@dataclass(frozen=True, slots=True)
class Routed:
    """One person told, and why (the sentence analytics gave)."""

    decision: Decision
    reason: str


def chosen(decisions: Sequence[Decision], experts: Sequence[Expert]) -> list[Routed]:
    """The first :data:`MAX_ROUTED` told of ``decisions`` (made in ``experts``' order), each
    with the reason they were chosen."""
    reasons: dict[str, str] = {}
    for expert in experts:
        reasons.setdefault(expert.user_id, expert.reason)
    told = [d for d in decisions if d.told][:MAX_ROUTED]
    return [Routed(d, reasons[d.candidate.recipient]) for d in told]


# --- the question's audience, kept until it is due --------------------------------------------


def item_json(item: Item) -> dict[str, Any]:
    """What :func:`item_from_json` needs to give the visibility rule the question again."""
    return {
        "activity_id": item.activity_id,
        "object_id": item.object_id,
        "author_id": item.author_id,
        "visibility": str(item.visibility),
        "published": item.published.isoformat(),
        "group_id": item.group_id,
        "group_visibility": None if item.group_visibility is None else str(item.group_visibility),
        "addressees": sorted(item.addressees),
        "mentions": sorted(item.mentions),
    }


def item_from_json(
    tenant: str, stored: Mapping[str, Any], *, group_visibility: str | None = None
) -> Item:
    """The question as the visibility rule reads it; ``group_visibility`` (the group's
    visibility now, from the projection) wins over the one it was asked with."""
    return Item(
        tenant_id=tenant,
        activity_id=stored["activity_id"],
        object_id=stored["object_id"],
        type="Create",
        actor_id=stored["author_id"],
        author_id=stored["author_id"],
        visibility=Visibility(stored["visibility"]),
        published=datetime.fromisoformat(stored["published"]),
        group_id=stored["group_id"],
        group_visibility=_visibility(group_visibility or stored["group_visibility"]),
        addressees=frozenset(stored["addressees"]),
        mentions=frozenset(stored["mentions"]),
    )


def _visibility(value: str | None) -> Visibility | None:
    return None if value is None else Visibility(value)
