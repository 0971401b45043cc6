"""Feed entries and cursors: how an item sits in a timeline and how a page says where it ends.

A timeline holds ``(score, member)`` pairs: the score is the item's time in milliseconds, the
member 16 bytes (the activity's UUID), so an entry costs little memory. Two items of the same
millisecond are ordered by member. Cursors are opaque to clients: a direction and a position.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from canopy_common.cursors import BadCursor

_URN_UUID = "urn:uuid:"


def entry_of(activity_id: str) -> uuid.UUID:
    """The timeline member of an activity: its UUID, or a UUIDv5 of any other IRI."""
    if activity_id.startswith(_URN_UUID):
        try:
            return uuid.UUID(activity_id.removeprefix(_URN_UUID))
        except ValueError:
            pass
    return uuid.uuid5(uuid.NAMESPACE_URL, activity_id)


def score_of(published: datetime) -> int:
    """An item's score: milliseconds since the epoch."""
    return int(published.timestamp() * 1000)


def time_of(score: float) -> datetime:
    return datetime.fromtimestamp(score / 1000, UTC)


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """Where an entry sits; newer entries compare greater."""

    score: int
    member: bytes  # 16 bytes


class Direction(StrEnum):
    OLDER = "o"  # the page after this position (next_cursor)
    NEWER = "n"  # the page before it (prev_cursor)


@dataclass(frozen=True, slots=True)
class Cursor:
    direction: Direction
    position: Position

    def encode(self) -> str:
        raw = f"{self.direction.value}{self.position.score}.{self.position.member.hex()}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """Parse a cursor a page gave out; 400 (BadCursor) for anything else."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            direction = Direction(raw[0])
            score, member = raw[1:].split(".", 1)
            position = Position(int(score), bytes.fromhex(member))
        except (ValueError, IndexError, UnicodeDecodeError, binascii.Error) as exc:
            raise BadCursor() from exc
        if len(position.member) != 16 or position.score < 0:
            raise BadCursor()
        return cls(direction, position)


def page_window(positions: list[Position], cursor: Cursor | None, limit: int) -> list[Position]:
    """The page of ``positions`` (newest first) that ``cursor`` asks for, newest first.

    No cursor: the newest ``limit``. Older: the ``limit`` just below the cursor. Newer: the
    ``limit`` just above it (the ones closest to it).
    """
    ordered = sorted(set(positions), reverse=True)
    if cursor is None:
        return ordered[:limit]
    if cursor.direction is Direction.OLDER:
        return [p for p in ordered if p < cursor.position][:limit]
    newer = [p for p in ordered if p > cursor.position]
    return newer[-limit:] if limit else []
