"""What the notification service knows: the kinds of notification, the categories people set
preferences for, the channels, and what one activity means for notifications (an
:class:`Occurrence`). Plain data; the rules over it are in :mod:`canopy_notify.domain.rules`
and :mod:`canopy_notify.domain.pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from canopy_common.audience import Item


class NoticeType(StrEnum):
    """Why someone is told: the rule that picked them (docs/architecture.md §6)."""

    MENTION = "mention"
    REPLY = "reply"  # to my post
    THREAD_REPLY = "thread_reply"  # in a thread I took part in
    REACTION = "reaction"  # to my post
    SHARE = "share"  # of my post
    FOLLOW = "follow"  # a new follower
    GROUP_INVITE = "group_invite"
    JOIN_REQUEST = "join_request"  # someone asks to join a group I administer
    ANSWER = "answer"  # to my question
    ACCEPTED_ANSWER = "accepted_answer"  # my answer was accepted
    ANNOUNCEMENT = "announcement"  # in a group I belong to
    TASK_ASSIGNED = "task_assigned"
    TASK_DUE = "task_due"
    FLAG = "flag"  # a report, to moderators
    MODERATION_DECISION = "moderation_decision"  # a post I reported was decided on
    MODERATION_WARNING = "moderation_warning"  # a moderator warned me about my post
    POST_REMOVED = "post_removed"  # a moderator removed my post
    QUESTION_ROUTED = "question_routed"  # an unanswered question I may be able to answer


class Category(StrEnum):
    """What preferences are set for: a few categories, each covering related types."""

    MENTION = "mention"
    REPLY = "reply"
    REACTION = "reaction"
    SHARE = "share"
    FOLLOW = "follow"
    GROUP = "group"
    ANSWER = "answer"
    ANNOUNCEMENT = "announcement"
    TASK = "task"
    MODERATION = "moderation"
    QUESTION = "question"  # unanswered questions routed to likely answerers (§17)


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    PUSH = "push"


class Digest(StrEnum):
    """How a person takes their non-urgent email: one by one (off), or gathered."""

    OFF = "off"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


CATEGORY_OF: Final[dict[NoticeType, Category]] = {
    NoticeType.MENTION: Category.MENTION,
    NoticeType.REPLY: Category.REPLY,
    NoticeType.THREAD_REPLY: Category.REPLY,
    NoticeType.REACTION: Category.REACTION,
    NoticeType.SHARE: Category.SHARE,
    NoticeType.FOLLOW: Category.FOLLOW,
    NoticeType.GROUP_INVITE: Category.GROUP,
    NoticeType.JOIN_REQUEST: Category.GROUP,
    NoticeType.ANSWER: Category.ANSWER,
    NoticeType.ACCEPTED_ANSWER: Category.ANSWER,
    NoticeType.ANNOUNCEMENT: Category.ANNOUNCEMENT,
    NoticeType.TASK_ASSIGNED: Category.TASK,
    NoticeType.TASK_DUE: Category.TASK,
    NoticeType.FLAG: Category.MODERATION,
    NoticeType.MODERATION_DECISION: Category.MODERATION,
    NoticeType.MODERATION_WARNING: Category.MODERATION,
    NoticeType.POST_REMOVED: Category.MODERATION,
    NoticeType.QUESTION_ROUTED: Category.QUESTION,
}

# When one activity gives someone several reasons, they hear the most specific one only (a
# mentioned person gets the mention, not also the reply or announcement).
PRECEDENCE: Final[tuple[NoticeType, ...]] = (
    NoticeType.ACCEPTED_ANSWER,
    NoticeType.ANSWER,
    NoticeType.MENTION,
    NoticeType.TASK_ASSIGNED,
    NoticeType.REPLY,
    NoticeType.THREAD_REPLY,
    NoticeType.GROUP_INVITE,
    NoticeType.JOIN_REQUEST,
    NoticeType.ANNOUNCEMENT,
    NoticeType.REACTION,
    NoticeType.SHARE,
    NoticeType.FOLLOW,
    NoticeType.FLAG,
    NoticeType.POST_REMOVED,
    NoticeType.MODERATION_WARNING,
    NoticeType.MODERATION_DECISION,
    NoticeType.TASK_DUE,
    NoticeType.QUESTION_ROUTED,
)

# Many of these about one thing read best as one line: "Ada and 3 others reacted to …".
GROUPED: Final = frozenset(
    {NoticeType.REACTION, NoticeType.SHARE, NoticeType.FOLLOW, NoticeType.JOIN_REQUEST}
)

# Never held back for a digest: they lose their worth by waiting.
URGENT: Final = frozenset({NoticeType.TASK_DUE, NoticeType.FLAG})


@dataclass(frozen=True, slots=True)
class Occurrence:
    """What one activity means for notifications, read from the canonical activity.

    ``item`` is the post concerned (the created post, or the one reacted to, shared, flagged,
    whose answer was accepted), for the visibility check; ``summary`` is what a notification
    shows of it.
    """

    tenant_id: str
    activity_id: str
    activity_type: str
    actor_id: str
    published: datetime
    item: Item | None = None
    kind: str | None = None  # the post's: note, question, answer, announcement, task, ...
    object_id: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    thread_id: str | None = None
    parent_author: str | None = None  # of the post replied to
    parent_id: str | None = None
    followee: str | None = None  # a Follow of a person
    invitee: str | None = None  # an Invite into a group
    join_request: bool = False  # a Join still pending an admin's approval
    group_id: str | None = None
    assignees: frozenset[str] = frozenset()  # a task's, from its `to`
    due_at: datetime | None = None  # a task's or event's endTime
    done: bool = False  # a task completed or cancelled
    # A moderator's decision (an Update of a Flag): the Flag's new status (dismissed, removed,
    # warned), the people it is addressed to and the flagged post's author.
    moderation: str | None = None
    told: frozenset[str] = frozenset()
    flagged_author: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """What rules need beyond the activity, looked up in the service's own projections."""

    thread_participants: frozenset[str] = frozenset()
    group_members: frozenset[str] = frozenset()
    moderators: frozenset[str] = frozenset()
    group_admins: frozenset[str] = frozenset()
    known_assignees: frozenset[str] = frozenset()  # already told about this task


@dataclass(frozen=True, slots=True)
class Candidate:
    """Someone a rule picked, and why."""

    recipient: str
    type: NoticeType

    @property
    def category(self) -> Category:
        return CATEGORY_OF[self.type]
