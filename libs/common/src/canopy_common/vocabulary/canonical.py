"""What a consumer of ``canopy.activities.v1`` accepts (docs/architecture.md §3, §9): a canonical
activity as ingestion publishes it, or a refusal with a reason that the consumer dead-letters.

Strict AS2 (:func:`canopy_common.events.decode_activity`) says a document is a well-formed
activity; a canonical one is also something fanout, notify and analytics can apply: one of the
activity types of the vocabulary (§3), an ``object`` (embedded whole where consumers read it,
since they never call back), a ``target`` where the vocabulary names one, and no larger than
anything ingestion can publish. A document that passes strict AS2 but fails here used to be
read as "no change" and committed without a trace; now every consumer refuses it alike.
"""

from __future__ import annotations

from typing import Final

from canopy_common.activities import activity_type, as_object
from canopy_common.events import InvalidActivity, StrictActivity, decode_activity, ref_id

__all__ = [
    "CANONICAL_TYPES",
    "MAX_ACTIVITY_BYTES",
    "ActivityTooLarge",
    "check_canonical",
    "decode_canonical",
]

# The largest canonical activity: a post is at most 10,000 characters (4 bytes each in UTF-8,
# 6 when JSON escapes them) plus its enrichment, and an Update or Accept embeds the whole post;
# ingestion's requests stop at 64 KiB. Four times that leaves room and keeps a runaway producer
# from filling every consumer's memory and projections.
MAX_ACTIVITY_BYTES: Final = 256 * 1024

# The activity types ingestion publishes (the vocabulary table of docs/architecture.md §3).
CANONICAL_TYPES: Final = frozenset(
    {
        "Accept",
        "Add",
        "Announce",
        "Block",
        "Create",
        "Delete",
        "Flag",
        "Follow",
        "Ignore",
        "Invite",
        "Join",
        "Leave",
        "Like",
        "Reject",
        "Remove",
        "Undo",
        "Update",
    }
)
# Consumers read these activities' objects whole: a post, a person, a group, the undone activity.
_EMBEDDED_OBJECT: Final = frozenset({"Create", "Update", "Undo"})
# An Update of a role embeds a Relationship, which has no id of its own.
_OBJECT_WITHOUT_ID: Final = frozenset({"Update"})
# The group a person is added to or removed from; the question whose answer is accepted.
_TARGETED: Final = frozenset({"Add", "Remove", "Accept"})


class ActivityTooLarge(InvalidActivity):
    """A record larger than :data:`MAX_ACTIVITY_BYTES`: no canonical activity is that big."""

    code = "activity-too-large"


def decode_canonical(raw: bytes) -> StrictActivity:
    """Decode a record of ``canopy.activities.v1``: strict AS2, then :func:`check_canonical`.

    Raises :class:`ActivityTooLarge` above :data:`MAX_ACTIVITY_BYTES` (before parsing),
    :class:`~canopy_common.events.InvalidJSON` or
    :class:`~canopy_common.events.InvalidActivity` naming the offending member: the consumer
    dead-letters the record with that reason.
    """
    if len(raw) > MAX_ACTIVITY_BYTES:
        raise ActivityTooLarge(
            "$", f"is {len(raw):,} bytes; no canonical activity exceeds {MAX_ACTIVITY_BYTES:,}"
        )
    activity = decode_activity(raw, profile="strict")
    check_canonical(activity)
    return activity


def check_canonical(activity: StrictActivity) -> None:
    """Raise :class:`~canopy_common.events.InvalidActivity` unless ``activity`` has the shape
    ingestion publishes: a type of :data:`CANONICAL_TYPES`; an ``object`` (not null) that names
    an id (but for the Relationship of an Update) and is embedded for Create, Update and Undo;
    a ``target`` for Add, Remove and Accept."""
    kind = activity_type(activity)
    if kind not in CANONICAL_TYPES:
        raise InvalidActivity("type", f"{kind!r} is not an activity type Canopy publishes")
    if activity.object is None:
        raise InvalidActivity("object", f"is required (not null) for {kind}")
    embedded = as_object(activity.object)
    if kind in _EMBEDDED_OBJECT and embedded is None:
        raise InvalidActivity("object", f"must be embedded whole in {kind}, not a reference")
    if kind not in _OBJECT_WITHOUT_ID and ref_id(activity.object) is None:
        raise InvalidActivity("object", f"must name an id in {kind}")
    if kind in _TARGETED and activity.target is None:
        raise InvalidActivity("target", f"is required (not null) for {kind}")
