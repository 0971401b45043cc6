"""Reading canonical activities (docs/architecture.md §3): posts as feed items, people as ids.

Ingestion enriches every activity so consumers never call back: a post's ``Create`` carries the
whole object (author, visibility, group with its visibility, mentions and hashtags resolved to
IRIs, the post it replies to). These functions turn that into
:class:`~canopy_common.audience.Item` and plain ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from canopy_common.audience import Item
from canopy_common.events import AS2Object, Refs, StrictActivity, Visibility, ref_id, ref_ids
from canopy_common.iris import parse_name, user_id_of

# AS2 types of what people and upstream systems post: feed material.
POST_TYPES: Final = frozenset(
    {"Note", "Article", "Question", "Task", "Event", "Document", "Link", "Page", "Image", "Video"}
)
ITEM_ACTIVITIES: Final = frozenset({"Create", "Announce"})
JOIN_PENDING: Final = "pending"  # the `status` of a Join that is only a request to join
_ADDRESSING: Final = ("to", "cc", "bto", "bcc", "audience")


def activity_type(activity: AS2Object) -> str:
    """The activity's (first) type."""
    kind = activity.type
    return (kind[0] if kind else "") if isinstance(kind, list) else kind or ""


def as_object(ref: Refs | None) -> AS2Object | None:
    """The first embedded object of a reference, or None when it is only an IRI."""
    first = ref[0] if isinstance(ref, list) and ref else ref
    return first if isinstance(first, AS2Object) else None


def user_ids(tenant: str, refs: Refs | None) -> list[str]:
    """The ids of ``tenant``'s people named by ``refs`` (other IRIs are skipped)."""
    found = (user_id_of(iri, tenant) for iri in ref_ids(refs))
    return [uid for uid in found if uid is not None]


def user_id(tenant: str, refs: Refs | None) -> str | None:
    """The id of the first of ``tenant``'s people named by ``refs``."""
    return next(iter(user_ids(tenant, refs)), None)


def is_join_request(activity: AS2Object) -> bool:
    """Whether ``activity`` is a request to join a group (a ``Join`` with ``status: pending``):
    it makes nobody a member; an admin's ``Add`` of the requester does."""
    return activity_type(activity) == "Join" and activity.status == JOIN_PENDING


def is_post(obj: AS2Object | None) -> bool:
    """Whether ``obj`` is a post (or task, event, document) rather than a person or group."""
    if obj is None or obj.id is None:
        return False
    kind = obj.type[0] if isinstance(obj.type, list) and obj.type else obj.type
    return kind in POST_TYPES


def tag_names(tenant: str, obj: AS2Object) -> tuple[list[str], list[str]]:
    """The user ids it mentions and the hashtags it carries (lower case, without ``#``)."""
    mentions: list[str] = []
    hashtags: list[str] = []
    tags = obj.tag if isinstance(obj.tag, list) else [] if obj.tag is None else [obj.tag]
    for tag in tags:
        if not isinstance(tag, AS2Object):
            continue
        iri = tag.href or tag.id or ""
        name = parse_name(iri)
        if tag.type == "Mention" and name is not None and name.kind == "user":
            if name.tenant == tenant:
                mentions.append(name.key)
        elif tag.type == "Hashtag":
            if name is not None and name.kind == "tag":
                if name.tenant == tenant:
                    hashtags.append(name.key)
            elif tag.name:
                hashtags.append(tag.name.removeprefix("#").lower())
    return mentions, hashtags


def item_of(activity: StrictActivity) -> Item | None:
    """The feed item an activity is — a ``Create`` or ``Announce`` of a post — or None."""
    if activity_type(activity) not in ITEM_ACTIVITIES:
        return None
    return _post_item(activity, as_object(activity.object), activity_type(activity))


def edited_item(activity: StrictActivity) -> Item | None:
    """The post an activity brings a new version of — the object of an ``Update``, the
    question (target) of an ``Accept`` — as an item (its ``activity_id`` is the edit's)."""
    match activity_type(activity):
        case "Update":
            obj = as_object(activity.object)
        case "Accept":
            obj = as_object(activity.target)
        case _:
            return None
    return post_item(activity, obj)


def post_item(activity: StrictActivity, obj: AS2Object | None) -> Item | None:
    """The post ``obj`` (embedded in ``activity``: the object of a Like, Announce or Flag)
    as an item of its own: its author is its actor."""
    return _post_item(activity, obj, "Create", actor_is_author=True)


def _post_item(
    activity: StrictActivity, obj: AS2Object | None, type_: str, *, actor_is_author: bool = False
) -> Item | None:
    if obj is None or not is_post(obj) or obj.id is None:
        return None
    tenant = activity.tenant
    author = user_id(tenant, obj.attributed_to)
    actor = author if actor_is_author else user_id(tenant, activity.actor)
    author = author or actor
    if actor is None or author is None:
        return None
    target = as_object(activity.target) if not actor_is_author else None
    target = target or as_object(obj.target)
    group_id = ref_id(obj.target) or (None if actor_is_author else ref_id(activity.target))
    mentions, hashtags = tag_names(tenant, obj)
    sources: tuple[AS2Object, ...] = (obj,) if actor_is_author else (activity, obj)
    addressees = {
        uid
        for source in sources
        for member in _ADDRESSING
        for uid in user_ids(tenant, getattr(source, member))
    }
    visibility = obj.visibility or activity.visibility or Visibility.INTERNAL
    return Item(
        tenant_id=tenant,
        activity_id=activity.id,
        object_id=obj.id,
        type=type_,
        actor_id=actor,
        author_id=author,
        visibility=visibility,
        published=activity.published,
        group_id=group_id,
        group_visibility=target.visibility if target is not None else None,
        addressees=frozenset(addressees),
        mentions=frozenset(mentions),
        hashtags=frozenset(hashtags),
        in_reply_to=ref_id(obj.in_reply_to),
    )


@dataclass(frozen=True, slots=True)
class Membership:
    """A change of who is in a group of ``tenant``: ``member`` joins (or is added), or leaves
    (or is removed); ``group`` is the group as the activity embeds it, when it does."""

    tenant: str
    member: str
    group_id: str
    joining: bool
    role: str
    group: AS2Object | None = None


def membership_of(activity: StrictActivity) -> Membership | None:
    """The membership change a Join, Add, Leave or Remove makes, or None (a join request, or
    anything else). Join and Leave: the actor, the group as object; Add and Remove: the person
    as object, the group as target."""
    kind = activity_type(activity)
    if kind not in ("Join", "Add", "Leave", "Remove") or is_join_request(activity):
        return None
    tenant = activity.tenant
    if kind in ("Join", "Leave"):
        member = user_id(tenant, activity.actor)
        group = as_object(activity.object) or as_object(activity.target)
        group_id = ref_id(activity.object)
    else:
        member = user_id(tenant, activity.object)
        group = as_object(activity.target)
        group_id = ref_id(activity.target)
    if member is None or group_id is None:
        return None
    joining = kind in ("Join", "Add")
    return Membership(tenant, member, group_id, joining, activity.role or "member", group)
