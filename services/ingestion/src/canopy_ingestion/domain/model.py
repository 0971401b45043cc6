"""The write model as plain data: what ingestion stores and turns into activities."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from canopy_common.events import Visibility
from canopy_common.visibility import GroupVisibility as GroupVisibility

# The AS2 type each post kind is published as: one map with the test factories.
from canopy_common.vocabulary.post_kinds import AS2_TYPE as AS2_TYPE


class UserKind(StrEnum):
    EMPLOYEE = "employee"
    GUEST = "guest"  # an external partner: sees public items and groups they belong to
    BOT = "bot"  # a system actor a tenant provisions for an upstream system


class JoinPolicy(StrEnum):
    """How people who can see a (public or internal) group become its members by themselves."""

    OPEN = "open"  # they join at once
    REQUEST = "request"  # they ask; an admin or owner approves (adds them) or declines


class PostKind(StrEnum):
    NOTE = "note"
    QUESTION = "question"
    ANSWER = "answer"
    ANNOUNCEMENT = "announcement"
    ARTICLE = "article"
    # Objects upstream systems create.
    TASK = "task"
    EVENT = "event"
    DOCUMENT = "document"
    LINK = "link"


class MemberRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class TaskStatus(StrEnum):
    """Where an upstream task or event stands; reminders stop once it is no longer open."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# The post kinds upstream systems schedule: they carry a due time (`endTime`) and a status.
SCHEDULED_KINDS = frozenset({PostKind.TASK, PostKind.EVENT})


class ReactionKind(StrEnum):
    LIKE = "like"
    CELEBRATE = "celebrate"
    INSIGHTFUL = "insightful"
    SUPPORT = "support"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    content_policy: list[dict[str, str]] | None = None


@dataclass(frozen=True)
class User:
    tenant_id: str
    id: str
    handle: str
    display_name: str
    kind: UserKind
    title: str | None = None
    department: str | None = None
    location: str | None = None
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    manager_id: str | None = None
    email: str | None = None
    # Tenant roles (moderator, tenant_admin, analyst, group_admin), sorted: who gets flags.
    roles: tuple[str, ...] = ()
    # False for a deactivated person (a leaver: their content stays, they may not act, get
    # nothing and are found by nobody) and for an erased one.
    active: bool = True
    # What the person writes about themselves (PATCH /v1/users/me); provisioning keeps them.
    summary: str | None = None
    pronouns: str | None = None
    erased: bool = False  # GDPR erasure: anonymised, relations dropped; never active again

    @property
    def is_guest(self) -> bool:
        return self.kind is UserKind.GUEST

    @property
    def is_former(self) -> bool:
        """Deactivated, not erased: a former colleague, who may be reactivated."""
        return not self.active and not self.erased


@dataclass(frozen=True)
class Group:
    tenant_id: str
    id: str
    name: str
    visibility: GroupVisibility
    owner_id: str
    description: str = ""
    join_policy: JoinPolicy = JoinPolicy.OPEN


@dataclass(frozen=True)
class GroupInvite:
    """A pending invitation of ``invitee_id`` into a group; joining consumes it."""

    tenant_id: str
    group_id: str
    invitee_id: str
    inviter_id: str
    activity_id: str  # the Invite that announced it
    created_at: datetime


@dataclass(frozen=True)
class JoinRequest:
    """A person's pending request to join a ``request`` group; an admin's Add consumes it."""

    tenant_id: str
    group_id: str
    requester_id: str
    activity_id: str  # the pending Join that announced it
    created_at: datetime


@dataclass(frozen=True)
class Post:
    tenant_id: str
    id: str
    author_id: str
    kind: PostKind
    as2_type: str
    content: str
    visibility: Visibility
    thread_id: str
    published: datetime
    updated: datetime
    group_id: str | None = None
    name: str | None = None
    to_ids: tuple[str, ...] = ()
    in_reply_to: str | None = None
    mentions: tuple[str, ...] = ()  # user ids
    hashtags: tuple[str, ...] = ()  # lower-case, without '#'
    accepted_answer_id: str | None = None
    url: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    status: TaskStatus | None = None  # tasks and events only
    source: str = "http"
    extra: dict[str, object] = field(default_factory=dict)
    deleted: bool = False
