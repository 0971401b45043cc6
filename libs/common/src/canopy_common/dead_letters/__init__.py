"""The operator's view of the DLQ (docs/kafka.md, "Dead letters"): read dead letters back with
the headers the consumers put on them, filter them, and replay their original records.

- :mod:`~canopy_common.dead_letters.letters` — reading and filtering;
- :mod:`~canopy_common.dead_letters.replay` — replaying, and the one place a replay is audited;
- ``python -m canopy_common.dead_letters list|show|replay`` — the command (``__main__``).

Writing dead letters is the consumers' step, :mod:`canopy_common.consuming.dead_letters`.
"""

from __future__ import annotations

from canopy_common.dead_letters.letters import (
    DeadLetter,
    Filters,
    LetterId,
    dead_letter,
    read_dead_letters,
)
from canopy_common.dead_letters.replay import ReplayReport, audit_replay, replay

__all__ = [
    "DeadLetter",
    "Filters",
    "LetterId",
    "ReplayReport",
    "audit_replay",
    "dead_letter",
    "read_dead_letters",
    "replay",
]
