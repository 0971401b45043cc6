"""What a canonical activity changes (docs/architecture.md §3, §5), parsed once into one typed
value: a new feed item, an edit, a removal, a membership, a follow, a block or mute, a
reaction, a profile, a group. Consumers dispatch on the type of the change and never read the
activity again; anything else (a join request, a Flag, an Invite, ...) is ``None`` here and
each consumer reads it as it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from canopy_common.activities import (
    Membership,
    activity_type,
    as_object,
    edited_item,
    item_of,
    membership_of,
    user_id,
)
from canopy_common.audience import Item
from canopy_common.events import AS2Object, Refs, StrictActivity, Visibility, ref_id
from canopy_common.iris import parse_name


@dataclass(frozen=True, slots=True)
class NewItem:
    """A post created or shared (``Create`` or ``Announce``): a new item of feeds."""

    activity: StrictActivity
    item: Item


@dataclass(frozen=True, slots=True)
class Edit:
    """A new version of a post: the object of an ``Update``, the question (target) of an
    ``Accept``. ``item`` is the post as it now is (its ``activity_id`` is the edit's)."""

    item: Item
    obj: AS2Object


@dataclass(frozen=True, slots=True)
class Removal:
    """An object deleted (a post, a comment, a group, ...)."""

    tenant: str
    object_id: str


@dataclass(frozen=True, slots=True)
class Erasure:
    """A person erased (the ``Delete`` of a Person, or of its Tombstone)."""

    tenant: str
    person: str


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """A person created or updated; ``kind`` is employee, guest or bot. ``active`` is False
    for a deactivated person (the Person's ``active: false``): a former colleague, whose
    content stays but who may not act and is told nothing; a Person that does not say it is
    active."""

    tenant: str
    person: str
    kind: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class NewGroup:
    """A group created, with who sees its items (``None``: unsaid)."""

    tenant: str
    group_id: str
    visibility: Visibility | None


@dataclass(frozen=True, slots=True)
class Follow:
    """``follower`` starts (``on``) or stops following a person (``followee``, their user id)
    or a hashtag (``hashtag``, its key); exactly one of the two is set."""

    tenant: str
    follower: str
    on: bool
    followee: str | None = None
    hashtag: str | None = None


@dataclass(frozen=True, slots=True)
class Restriction:
    """``actor`` blocks (``Block``: each is hidden from the other) or mutes (``Ignore``:
    ``other`` is hidden from ``actor``) someone, or (not ``on``) stops."""

    tenant: str
    actor: str
    other: str
    block: bool
    on: bool


@dataclass(frozen=True, slots=True)
class Reaction:
    """``actor`` reacts to a post (a ``Like``; ``reaction`` is like, celebrate, ...)."""

    tenant: str
    actor: str
    object_id: str
    reaction: str
    activity_id: str


@dataclass(frozen=True, slots=True)
class ReactionUndone:
    """The ``Undo`` of a reaction, named by the reaction's activity id."""

    tenant: str
    activity_id: str


@dataclass(frozen=True, slots=True)
class ShareUndone:
    """The ``Undo`` of a share (``Announce``), named by the share's activity id."""

    tenant: str
    activity_id: str


Change: TypeAlias = (
    NewItem
    | Edit
    | Removal
    | Erasure
    | ProfileChange
    | NewGroup
    | Membership
    | Follow
    | Restriction
    | Reaction
    | ReactionUndone
    | ShareUndone
)

DEFAULT_REACTION = "like"  # a Like that names no kind
DEFAULT_PERSON_KIND = "employee"  # a Person that names no kind


def change_of(activity: StrictActivity) -> Change | None:
    """The change ``activity`` makes, or ``None`` when it makes none of these."""
    tenant, kind = activity.tenant, activity_type(activity)
    obj = as_object(activity.object)
    obj_type = activity_type(obj) if obj is not None else None
    actor = user_id(tenant, activity.actor)
    if kind in ("Create", "Announce") and (item := item_of(activity)) is not None:
        return NewItem(activity, item)
    if kind in ("Create", "Update") and obj_type == "Person" and obj is not None:
        person = user_id(tenant, obj.id)
        if person is None:
            return None
        return ProfileChange(
            tenant, person, obj.kind or DEFAULT_PERSON_KIND, obj.active is not False
        )
    if kind == "Create" and obj_type == "Group" and obj is not None and obj.id:
        return NewGroup(tenant, obj.id, obj.visibility)
    if kind in ("Update", "Accept") and (edited := edited_item(activity)) is not None:
        source = as_object(activity.object if kind == "Update" else activity.target)
        return Edit(edited, source) if source is not None else None
    match kind:
        case "Delete":
            return _removal(tenant, obj, activity.object)
        case "Like" if actor is not None and obj is not None and obj.id:
            reaction = activity.reaction or DEFAULT_REACTION
            return Reaction(tenant, actor, obj.id, reaction, activity.id)
        case "Follow" if actor is not None:
            return _follow(tenant, actor, activity.object, on=True)
        case "Join" | "Add" | "Leave" | "Remove":
            return membership_of(activity)  # None for a request to join
        case "Block" | "Ignore" if actor is not None:
            other = user_id(tenant, activity.object)
            return Restriction(tenant, actor, other, kind == "Block", True) if other else None
        case "Undo" if actor is not None and obj is not None:
            return _undone(tenant, actor, obj)
    return None


def _removal(tenant: str, obj: AS2Object | None, refs: Refs | None) -> Removal | Erasure | None:
    object_id = obj.id if obj is not None else ref_id(refs)
    if object_id is None:
        return None
    person = user_id(tenant, object_id)
    if person is not None:
        return Erasure(tenant, person)
    if obj is not None and obj.former_type == "Person":
        return None  # a person of another tenant, or no person's IRI: nobody to erase here
    return Removal(tenant, object_id)


def _follow(tenant: str, follower: str, refs: Refs | None, *, on: bool) -> Follow | None:
    target = as_object(refs)
    target_id = target.id if target is not None else ref_id(refs)
    if target_id is None:
        return None
    name = parse_name(target_id)
    if name is not None and name.kind == "tag" and name.tenant == tenant:
        return Follow(tenant, follower, on, hashtag=name.key)
    followee = user_id(tenant, target_id)
    if followee is None or followee == follower:
        return None
    return Follow(tenant, follower, on, followee=followee)


def _undone(tenant: str, actor: str, undone: AS2Object) -> Change | None:
    match activity_type(undone):
        case "Follow":
            return _follow(tenant, actor, undone.object, on=False)
        case "Block" | "Ignore" as restriction:
            other = user_id(tenant, undone.object)
            if other is None:
                return None
            return Restriction(tenant, actor, other, restriction == "Block", False)
        case "Like" if undone.id:
            return ReactionUndone(tenant, undone.id)
        case "Announce" if undone.id:
            return ShareUndone(tenant, undone.id)
    return None
