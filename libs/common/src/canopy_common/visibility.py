"""Who may see a group, and who may see an item: the one visibility rule of every service
(docs/architecture.md §5, §6).

A group is seen by its members (and by whoever holds a pending invite to it); otherwise a
``public`` group by everyone in the tenant, guests too; an ``internal`` one by employees (and
bots); a ``private`` one by nobody else.

An item (a post, task, event, document, or a share of one) in a group is seen only by those
who see the group (a private group's items never leave it); within that its visibility
decides — ``public`` everyone in the tenant, guests too; ``internal`` employees; ``group``
members of its group; ``followers`` the author's followers (not guests) and the people it
mentions; ``direct`` its addressees and the people it mentions. The author always sees their
item (and shares of it, unless they blocked the sharer); a block between the reader and the
actor or author hides it; a deleted item and an inactive reader see nothing.

A person's profile is seen by everyone of their tenant while they are active (a deactivated or
erased person by nobody, except where a former colleague is shown as one); a guest sees only
themselves and the people they share a group with.

It fails closed: an unknown item visibility, an unknown (or missing) group visibility, a
missing membership or another tenant deny. Every projection that stores a group's visibility
reads it through :func:`group_visibility_of`, so an unknown one is stored as private.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from canopy_common.events import Visibility


class GroupVisibility(StrEnum):
    """Who sees a group (and so, at most, its items)."""

    PUBLIC = "public"  # everyone in the tenant, guests too
    INTERNAL = "internal"  # employees (and bots)
    PRIVATE = "private"  # members only

    @property
    def as2(self) -> Visibility:
        """The group's visibility as the AS2 ``visibility`` term says it (it knows no
        ``private``: a private group's items reach its members, ``group``)."""
        return _AS2_OF_GROUP[self]


_AS2_OF_GROUP = {
    GroupVisibility.PUBLIC: Visibility.PUBLIC,
    GroupVisibility.INTERNAL: Visibility.INTERNAL,
    GroupVisibility.PRIVATE: Visibility.GROUP,
}


def group_visibility_of(value: object) -> GroupVisibility:
    """A group's visibility from whatever spells it — Canopy's (``private``), AS2's
    (``group``), a stored text, or nothing: ``public`` and ``internal`` are themselves,
    anything else (private, group, unknown, missing) is private, so a group nobody described
    stays closed."""
    match value:
        case "public":  # GroupVisibility.PUBLIC and Visibility.PUBLIC are this text too
            return GroupVisibility.PUBLIC
        case "internal":
            return GroupVisibility.INTERNAL
    return GroupVisibility.PRIVATE


def visibility_of(value: object) -> Visibility | None:
    """An item's visibility from its AS2 value or a stored text; None when it is unknown (and
    then nobody but its author sees the item)."""
    if isinstance(value, Visibility):
        return value
    if isinstance(value, str) and value in _VISIBILITIES:
        return Visibility(value)
    return None


_VISIBILITIES = frozenset(v.value for v in Visibility)


@dataclass(frozen=True, slots=True)
class Reader:
    """Someone reading (feeds, a post, a report) or receiving pushes: their id, whether they
    are a guest, whether they are active, and their tenant (None when the caller already
    scoped everything it looked up to the reader's tenant)."""

    id: str
    guest: bool = False
    active: bool = True
    tenant_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ties:
    """A reader's relations to one item's people, group and hashtags."""

    follows: frozenset[str] = frozenset()  # which of the item's people the reader follows
    member: bool = False  # of the item's group
    follows_tag: bool = False  # any of the item's hashtags
    blocked: bool = False  # the reader and one of the item's people, either way round
    muted: bool = False  # the reader muted one of the item's people


NO_TIES = Ties()


class Visible(Protocol):
    """What decides who may see an item (feed items and :class:`Content` both are one)."""

    @property
    def tenant_id(self) -> str | None: ...
    @property
    def author_id(self) -> str | None: ...
    @property
    def visibility(self) -> str | None: ...  # a Visibility, or its text
    @property
    def group_id(self) -> str | None: ...
    @property
    def group_visibility(self) -> str | None: ...  # a Visibility or GroupVisibility, or text
    @property
    def addressees(self) -> Collection[str]: ...  # user ids in to/cc/bto/bcc/audience
    @property
    def mentions(self) -> Collection[str]: ...  # user ids
    @property
    def deleted(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Content:
    """An item as the visibility rule needs it, for callers that hold no feed item (a post
    read from a write model or a report's row)."""

    author_id: str | None
    visibility: str | None
    group_id: str | None = None
    group_visibility: str | None = None
    addressees: Collection[str] = ()
    mentions: Collection[str] = ()
    deleted: bool = False
    tenant_id: str | None = None


def sees_group(
    reader: Reader,
    visibility: object,
    *,
    member: bool,
    invited: bool = False,
    tenant_id: str | None = None,
) -> bool:
    """Whether ``reader`` sees a group whose visibility is ``visibility`` (any spelling, see
    :func:`group_visibility_of`); ``member`` and ``invited`` say whether they belong to it or
    hold a pending invite, ``tenant_id`` is the group's (when the caller has not scoped it)."""
    if not reader.active or not _same_tenant(reader, tenant_id):
        return False
    return member or invited or _group_open_to(visibility, guest=reader.guest)


def group_visibilities_seen(*, guest: bool) -> tuple[GroupVisibility, ...]:
    """The group visibilities a non-member sees (a filter for a query over groups): guests
    public groups only, employees public and internal ones."""
    reader = Reader(id="", guest=guest)
    return tuple(v for v in GroupVisibility if sees_group(reader, v, member=False))


@dataclass(frozen=True, slots=True)
class Person:
    """Someone whose profile may be read: their id, standing and tenant (None when the caller
    scoped it). ``former``: deactivated (a leaver), not erased."""

    id: str
    active: bool = True
    former: bool = False
    tenant_id: str | None = None


def sees_person(
    reader: Reader, person: Person, *, shares_group: bool, former: bool = False
) -> bool:
    """Whether ``reader`` sees ``person``'s profile (may find, follow, block or mute them);
    ``shares_group``: they are in a group together; with ``former``, a deactivated person's
    profile too (never an erased one)."""
    shown = person.active or (former and person.former)
    if not shown or not _same_tenant(reader, person.tenant_id):
        return False
    return not reader.guest or person.id == reader.id or shares_group


def may_see(reader: Reader, item: Visible, ties: Ties = NO_TIES) -> bool:
    """Whether ``reader``, related to ``item`` by ``ties``, may see it at all."""
    if item.deleted or not reader.active or not _same_tenant(reader, item.tenant_id):
        return False
    if reader.id == item.author_id:
        return not ties.blocked  # their own item (or a share of it, unless they blocked the sharer)
    if ties.blocked:
        return False
    return _allowed(item, guest=reader.guest, reader_id=reader.id, ties=ties)


def seen_by_every_employee(item: Visible) -> bool:
    """Whether any active employee of its tenant sees ``item``, with no tie to it at all."""
    return not item.deleted and _allowed(item, guest=False, reader_id=None, ties=NO_TIES)


def _allowed(item: Visible, *, guest: bool, reader_id: str | None, ties: Ties) -> bool:
    """The group and the visibility of ``item`` let this reader (not its author) see it."""
    in_group = item.group_id is not None
    if in_group and not (ties.member or _group_open_to(item.group_visibility, guest=guest)):
        return False
    named = reader_id is not None and reader_id in item.mentions
    match visibility_of(item.visibility):
        case Visibility.PUBLIC:
            return True
        case Visibility.INTERNAL:
            return not guest
        case Visibility.GROUP:
            return ties.member
        case Visibility.FOLLOWERS:
            follows_author = item.author_id is not None and item.author_id in ties.follows
            return (follows_author and not guest) or named
        case Visibility.DIRECT:
            return named or (reader_id is not None and reader_id in item.addressees)
    return False  # unknown visibility


def _group_open_to(visibility: object, *, guest: bool) -> bool:
    """Whether a group of ``visibility`` shows itself to a non-member."""
    match group_visibility_of(visibility):
        case GroupVisibility.PUBLIC:
            return True
        case GroupVisibility.INTERNAL:
            return not guest
    return False  # private (or unknown): members only


def _same_tenant(reader: Reader, tenant_id: str | None) -> bool:
    # A reader without a tenant was scoped by the caller; one with a tenant sees only its own.
    return reader.tenant_id is None or reader.tenant_id == tenant_id
