"""Whose home feed an item goes into (docs/architecture.md §5); who may see it at all is
:func:`canopy_common.audience.may_see`.

Delivery into a home feed needs a reason besides: the reader wrote or shared it, follows the
actor, is a member of its group, follows one of its hashtags, or is mentioned or addressed. A
mute hides the muted person's items from the home feed (not from their own feed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Cohort:
    """Candidates who stand alike towards an item: the same kind (guest or not), the same
    ties; ``named`` when the item names them (its people, mentions or addressees), whose
    delivery then depends on who each one is. An audience of 10,000 is a handful of cohorts,
    so the rule runs once per cohort, not once per reader."""

    readers: list[str]
    ties: Ties = NO_TIES
    guest: bool = False
    named: bool = False


def resolve_audience(item: Item, cohorts: Iterable[Cohort]) -> list[str]:
    """The ids of the candidates whose home feed ``item`` goes into, cohort by cohort.

    Candidates are whoever could have a reason (followers of the actor, members of the group,
    followers of the hashtags, people named, the actor and the author), each in one cohort.
    A cohort not named by the item is decided once, for any of its readers: nothing about
    :func:`delivers` then depends on which reader it is.
    """
    chosen: dict[str, None] = {}
    for cohort in cohorts:
        if not cohort.readers:
            continue
        if cohort.named:
            for reader_id in cohort.readers:
                if delivers(Reader(reader_id, guest=cohort.guest), item, cohort.ties):
                    chosen[reader_id] = None
        elif delivers(Reader(cohort.readers[0], guest=cohort.guest), item, cohort.ties):
            chosen.update(dict.fromkeys(cohort.readers))
    return list(chosen)
