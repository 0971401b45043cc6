"""Who might be told about an activity, and why (docs/architecture.md §6). Pure rules.

Each rule looks at one :class:`Occurrence` (and the :class:`Facts` looked up for it) and
proposes candidates; :mod:`canopy_notify.domain.pipeline` then dedupes them, drops the actor and
whoever may not see the object, and applies preferences and mutes.

- a post (or reply) mentioning someone → ``mention``;
- a reply → the author of the post replied to (``reply``), everyone else in the thread
  (``thread_reply``); an answer → the question's author (``answer``);
- an announcement in a group → its members;
- a task (or event) with assignees in ``to`` → ``task_assigned`` for each new assignee;
- a reaction, a share → the post's author; a follow of a person → them;
- an invite into a group → the invitee; a pending Join (a request to join) → the group's
  admins and owners; an accepted answer → the answer's author;
- a flag → the tenant's moderators;
- a moderator's decision on a report (an Update of the Flag) → the reporters it is addressed
  to (``moderation_decision``) and, when addressed, the author (``post_removed`` or
  ``moderation_warning``).
"""

from __future__ import annotations

from canopy_notify.domain.model import Candidate, Facts, NoticeType, Occurrence

POSTING = frozenset({"Create"})
ASSIGNABLE = frozenset({"task", "event"})
REMOVED = "removed"  # the status of a Flag whose post a moderator removed


def candidates(occ: Occurrence, facts: Facts) -> list[Candidate]:
    """Everyone a rule picks for ``occ``, in rule order (duplicates left for the pipeline)."""
    picked: list[Candidate] = []

    def pick(recipients: str | frozenset[str] | None, type_: NoticeType) -> None:
        if isinstance(recipients, frozenset):
            picked.extend(Candidate(r, type_) for r in sorted(recipients))
        elif recipients:
            picked.append(Candidate(recipients, type_))

    match occ.activity_type:
        case "Update" if occ.moderation is not None:
            author = occ.flagged_author
            pick(occ.told - {author} if author else occ.told, NoticeType.MODERATION_DECISION)
            if author is not None and author in occ.told:
                removed = occ.moderation == REMOVED
                pick(author, NoticeType.POST_REMOVED if removed else NoticeType.MODERATION_WARNING)
        case "Create" | "Update" if occ.item is not None:
            if occ.activity_type == "Create":
                pick(occ.item.mentions, NoticeType.MENTION)
                if occ.parent_author is not None:
                    answer = occ.kind == "answer"
                    pick(occ.parent_author, NoticeType.ANSWER if answer else NoticeType.REPLY)
                    pick(facts.thread_participants, NoticeType.THREAD_REPLY)
                if occ.kind == "announcement" and occ.group_id is not None:
                    pick(facts.group_members, NoticeType.ANNOUNCEMENT)
            if occ.kind in ASSIGNABLE and not occ.done:
                pick(occ.assignees - facts.known_assignees, NoticeType.TASK_ASSIGNED)
        case "Like" if occ.item is not None:
            pick(occ.item.author_id, NoticeType.REACTION)
        case "Announce" if occ.item is not None:
            pick(occ.item.author_id, NoticeType.SHARE)
        case "Follow" if occ.followee is not None:
            pick(occ.followee, NoticeType.FOLLOW)
        case "Invite" if occ.invitee is not None:
            pick(occ.invitee, NoticeType.GROUP_INVITE)
        case "Join" if occ.join_request:
            pick(facts.group_admins, NoticeType.JOIN_REQUEST)
        case "Accept" if occ.item is not None:
            pick(occ.item.author_id, NoticeType.ACCEPTED_ANSWER)
        case "Flag":
            pick(facts.moderators, NoticeType.FLAG)
    return picked


def needs_thread(occ: Occurrence) -> bool:
    """Whether the rules want the thread's participants (a reply)."""
    return occ.activity_type in POSTING and occ.parent_author is not None


def needs_members(occ: Occurrence) -> bool:
    """Whether the rules want the group's members (an announcement in a group)."""
    return occ.activity_type in POSTING and occ.kind == "announcement" and occ.group_id is not None


def needs_admins(occ: Occurrence) -> bool:
    """Whether the rules want the group's admins and owners (a request to join it)."""
    return occ.join_request and occ.group_id is not None
