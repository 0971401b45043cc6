"""How many posts a group may pin. Pure.

Pins are the short list a group's admins put above its feed ("read this first"): the welcome
post, the rules, the current plan. A few stay read; a long list is a second feed nobody reads,
and every feed page that shows pins carries them. Mastodon allows 5 pinned posts per profile;
Viva Engage and HumHub keep pins to a handful too.
"""

from __future__ import annotations

from canopy_common.errors import Conflict

MAX_PINS = 5


class PinLimitReached(Conflict):
    """A group with :data:`MAX_PINS` pins takes no more: 409, saying what to do."""

    code = "pin-limit"

    def __init__(self, group_id: str) -> None:
        super().__init__(
            f"group {group_id!r} has {MAX_PINS} pinned posts, the most it may have; "
            "unpin one first",
            extra={"limit": MAX_PINS},
        )


def check_room_for_pin(group_id: str, pinned: int) -> None:
    """Raise :class:`PinLimitReached` when a group with ``pinned`` pins is full."""
    if pinned >= MAX_PINS:
        raise PinLimitReached(group_id)
