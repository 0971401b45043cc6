"""Whose home feed an item goes into (docs/architecture.md §5); who may see it at all is
:func:`canopy_common.audience.may_see`.

Delivery into a home feed needs a reason besides: the reader wrote or shared it, follows the
actor, is a member of its group, follows one of its hashtags, or is mentioned or addressed. A
mute hides the muted person's items from the home feed (not from their own feed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from canopy_common.audience import NO_TIES, Item, Reader, Ties, may_see


def has_reason(reader: Reader, item: Item, ties: Ties) -> bool:
    """Whether ``item`` concerns ``reader`` enough for their home feed."""
    return (
        reader.id in item.people
        or item.actor_id in ties.follows
        or ties.member
        or ties.follows_tag
        or reader.id in item.mentions
        or reader.id in item.addressees
    )


def delivers(reader: Reader, item: Item, ties: Ties = NO_TIES) -> bool:
    """Whether ``item`` belongs in ``reader``'s home feed."""
    if ties.muted:
        return False
    return has_reason(reader, item, ties) and may_see(reader, item, ties)


def resolve_audience(
    item: Item, candidates: Iterable[Reader], ties: Mapping[str, Ties]
) -> list[str]:
    """The ids of the ``candidates`` whose home feed ``item`` goes into, in candidate order.

    ``ties`` holds each candidate's relations to the item (missing: none). Candidates are
    whoever could have a reason (followers of the actor, members of the group, followers of
    the hashtags, people named, the actor and the author); duplicates count once.
    """
    chosen: dict[str, None] = {}
    for reader in candidates:
        if reader.id not in chosen and delivers(reader, item, ties.get(reader.id, NO_TIES)):
            chosen[reader.id] = None
    return list(chosen)
