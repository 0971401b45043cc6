"""When task due reminders fire (docs/architecture.md §6). Pure.

A task (or event) with a due time (``endTime``) and assignees gets one reminder per lead time
(tenant setting, default 24 h and 1 h before). A lead time already past when the task is armed
is skipped: the assignment itself told them. A new due time arms new reminders (the old ones
are cancelled); completion or deletion cancels them. Each (task, lead, due time) fires once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Reminder:
    lead_s: int
    due_at: datetime
    fire_at: datetime


def plan(due_at: datetime, leads_s: Sequence[int], armed_at: datetime) -> list[Reminder]:
    """The reminders of a task due at ``due_at``, armed at ``armed_at``, latest lead first."""
    return [
        Reminder(lead, due_at, fire_at)
        for lead in sorted(set(leads_s), reverse=True)
        if (fire_at := due_at - timedelta(seconds=lead)) > armed_at
    ]


def lead_text(lead_s: int) -> str:
    """ "in 1 hour", "in 24 hours", "in 30 minutes"."""
    if lead_s % 3600 == 0:
        hours = lead_s // 3600
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, lead_s // 60)
    return f"in {minutes} minute{'s' if minutes != 1 else ''}"
