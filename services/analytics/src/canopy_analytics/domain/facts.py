"""What one canonical activity means for analytics (docs/architecture.md §7). Pure.

Definitions the API reports on:
- **active**: the actor did anything (an activity) — except profile provisioning, which an
  admin or HR system does *to* people; viewers of feed items are active too (impressions);
- **engaged**: posted (``created``), or commented, answered or reacted (``contributed``);
- counters, each exact per UTC day, tenant-wide and per group: ``posts`` (top-level posts;
  upstream tasks and events are content, not posts), ``comments`` (replies and answers),
  ``reactions`` (Likes net of their Undo), ``shares`` (Announces net of their Undo),
  ``follows`` (of people, net of Undo), ``members`` (Join and Add net of Leave and Remove; a
  pending join request is nobody's membership); ``content`` counts new posts and comments by
  kind;
- the expertise signal and trending count only what every employee may see: public or internal
  posts outside private groups, so neither reveals private work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final

from canopy_analytics.domain.post_text import plain_text, strip_html
from canopy_common.activities import (
    activity_type,
    as_object,
    is_post,
    membership_of,
    post_item,
    tag_names,
    user_id,
)
from canopy_common.audience import Item
from canopy_common.events import AS2Object, StrictActivity, ref_id
from canopy_common.visibility import Content, seen_by_every_employee

# Upstream objects: content, but nobody "posted" them in the engagement sense.
SCHEDULED_KINDS: Final = frozenset({"task", "event"})


class Action(StrEnum):
    POST = "post"
    COMMENT = "comment"
    CONTENT = "content"  # an upstream task or event
    REACT = "react"
    SHARE = "share"
    ACCEPT = "accept"
    FOLLOW = "follow"
    JOIN = "join"
    LEAVE = "leave"
    UNDO_REACT = "undo_react"
    UNDO_SHARE = "undo_share"
    UNFOLLOW = "unfollow"
    EDIT = "edit"  # an Update of a post: new text, audience or hashtags
    DELETE = "delete"
    OTHER = "other"


# Actions that write a post's text (docs/architecture.md §17).
TEXT_ACTIONS: Final = frozenset({Action.POST, Action.COMMENT, Action.CONTENT, Action.EDIT})


@dataclass(frozen=True, slots=True)
class Post:
    """The post an activity is about, as far as the activity tells."""

    object_id: str
    author_id: str | None
    group_id: str | None = None
    kind: str | None = None
    visibility: str | None = None
    published: datetime | None = None
    parent_id: str | None = None
    tags: tuple[str, ...] = ()
    open: bool = False  # every employee may see it
    # What search needs (docs/architecture.md §17): its plain text and who it names.
    title: str | None = None
    text: str = ""
    addressees: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fact:
    """One activity's effect on the rollups."""

    tenant: str
    activity_id: str
    action: Action
    at: datetime
    actor: str | None  # counted active, when not None
    created: bool = False
    contributed: bool = False
    group_id: str | None = None  # the group it happened in
    counts: tuple[tuple[str, str, int], ...] = ()  # (metric, kind, delta)
    post: Post | None = None
    question: Post | None = None  # the question answered, or whose answer was accepted
    other: str | None = None  # the followed person, the joining member

    @property
    def day(self) -> date:
        return self.at.astimezone(UTC).date()


def fact_of(activity: StrictActivity) -> Fact:
    """What ``activity`` changes in the rollups."""
    tenant = activity.tenant
    kind = activity_type(activity)
    obj = as_object(activity.object)
    obj_type = former_type(obj) if obj is not None else ""
    actor = user_id(tenant, activity.actor)

    def fact(action: Action, **more: Any) -> Fact:
        return _fact(activity, more.pop("actor", actor), action, **more)

    match kind:
        case "Create" if is_post(obj) and obj is not None:
            return _created(activity, obj, actor)
        case "Create" | "Update" | "Delete" if obj_type == "Person":
            # Provisioning is done to people; only editing one's own profile is activity.
            mine = obj is not None and user_id(tenant, obj.id) == actor
            return fact(Action.OTHER, actor=actor if mine and kind == "Update" else None)
        case "Update" if is_post(obj) and (post := _post(activity, obj)) is not None:
            return fact(Action.EDIT, post=post)
        case "Delete" if obj_type != "Group":
            return fact(Action.DELETE, post=Post(ref_id(activity.object) or "", None))
        case "Like" | "Announce" if (post := _post(activity, obj)) is not None:
            if kind == "Like":
                return fact(
                    Action.REACT,
                    contributed=True,
                    group_id=post.group_id,
                    counts=(("reactions", "", 1),),
                    post=post,
                )
            return fact(
                Action.SHARE, group_id=post.group_id, counts=(("shares", "", 1),), post=post
            )
        case "Undo" if obj is not None:
            return _undone(activity, obj, actor)
        case "Follow" if obj_type == "Person" and obj is not None:
            return fact(Action.FOLLOW, counts=(("follows", "", 1),), other=user_id(tenant, obj.id))
        case "Join" | "Add" | "Leave" | "Remove":
            change = membership_of(activity)
            if change is None:  # a request to join: nobody is a member yet
                return fact(Action.OTHER)
            return fact(
                Action.JOIN if change.joining else Action.LEAVE,
                group_id=change.group_id,
                counts=(("members", "", 1 if change.joining else -1),),
                other=change.member,
            )
        case "Accept" if (answer := _post(activity, obj)) is not None:
            question = _post(activity, as_object(activity.target))
            return fact(Action.ACCEPT, post=answer, question=question)
    return fact(Action.OTHER)


def _fact(activity: StrictActivity, actor: str | None, action: Action, **more: Any) -> Fact:
    return Fact(
        tenant=activity.tenant,
        activity_id=activity.id,
        at=activity.published,
        action=action,
        actor=actor,
        **more,
    )


def _created(activity: StrictActivity, obj: AS2Object, actor: str | None) -> Fact:
    post = _post(activity, obj, actor_is_author=False)
    assert post is not None  # is_post(obj) held
    kind = post.kind or (activity_type(obj).lower() or "note")
    content = (("content", kind, 1),)
    if kind in SCHEDULED_KINDS:
        return _fact(
            activity, actor, Action.CONTENT, counts=content, post=post, group_id=post.group_id
        )
    if post.parent_id is not None:
        question = Post(post.parent_id, None) if kind == "answer" else None
        return _fact(
            activity,
            actor,
            Action.COMMENT,
            contributed=True,
            group_id=post.group_id,
            counts=(("comments", "", 1), *content),
            post=post,
            question=question,
        )
    return _fact(
        activity,
        actor,
        Action.POST,
        created=True,
        group_id=post.group_id,
        counts=(("posts", "", 1), *content),
        post=post,
    )


def _undone(activity: StrictActivity, undone: AS2Object, actor: str | None) -> Fact:
    tenant = activity.tenant
    kind = activity_type(undone)
    target = as_object(undone.object)
    target_id = ref_id(undone.object)
    if kind in ("Like", "Announce") and target_id is not None:
        author = user_id(tenant, target.attributed_to) if target is not None else None
        post = Post(target_id, author)
        if kind == "Like":
            return _fact(
                activity, actor, Action.UNDO_REACT, counts=(("reactions", "", -1),), post=post
            )
        return _fact(activity, actor, Action.UNDO_SHARE, counts=(("shares", "", -1),), post=post)
    if kind == "Follow" and target is not None and activity_type(target) == "Person":
        followee = user_id(tenant, target.id)
        return _fact(
            activity, actor, Action.UNFOLLOW, counts=(("follows", "", -1),), other=followee
        )
    return _fact(activity, actor, Action.OTHER)


def _post(
    activity: StrictActivity, obj: AS2Object | None, *, actor_is_author: bool = True
) -> Post | None:
    """The post ``obj`` (created by, or embedded in, ``activity``)."""
    if obj is None or not is_post(obj) or obj.id is None:
        return None
    tenant = activity.tenant
    item: Item | None = post_item(activity, obj)
    author = user_id(tenant, obj.attributed_to) or (
        None if actor_is_author else user_id(tenant, activity.actor)
    )
    mentions, hashtags = tag_names(tenant, obj)
    group_id = item.group_id if item is not None else ref_id(obj.target)
    if group_id is None and not actor_is_author:
        group_id = ref_id(activity.target)
    visibility = obj.visibility or activity.visibility
    group = as_object(obj.target) or (None if actor_is_author else as_object(activity.target))
    return Post(
        object_id=obj.id,
        author_id=author,
        group_id=group_id,
        kind=obj.kind,
        visibility=visibility.value if visibility is not None else None,
        published=obj.published or activity.published,
        parent_id=ref_id(obj.in_reply_to),
        tags=tuple(sorted(set(hashtags))),
        title=strip_html(obj.name) if obj.name else None,
        text=plain_text(obj.name, obj.content),
        addressees=tuple(sorted(item.addressees)) if item is not None else (),
        mentions=tuple(sorted(set(mentions))),
        open=seen_by_every_employee(
            Content(
                author_id=author,
                visibility=visibility,
                group_id=group_id,
                group_visibility=group.visibility if group is not None else None,
            )
        ),
    )


def former_type(obj: AS2Object) -> str:
    """The type of an object, or of what a ``Tombstone`` was (an erased Person, a deleted
    Group)."""
    kind = activity_type(obj)
    former = obj.former_type if kind == "Tombstone" else None
    return former if former is not None else kind
