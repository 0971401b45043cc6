"""One line saying what a notification is about: "Ada and 3 others reacted to your post “…”".
Pure; the API shows it as ``text`` and emails are built from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_PHRASES = {
    "mention": "mentioned you in",
    "reply": "replied to your post",
    "thread_reply": "replied in a thread you are in:",
    "reaction": "reacted to your post",
    "share": "shared your post",
    "follow": "started following you",
    "group_invite": "invited you to join",
    "join_request": "asked to join",
    "answer": "answered your question",
    "accepted_answer": "accepted your answer to",
    "announcement": "made an announcement:",
    "task_assigned": "assigned you",
    "flag": "reported",
    "moderation_decision": "decided on a post you reported",
    "moderation_warning": "warned you about your post",
    "post_removed": "removed your post",
    "question_routed": "asked a question you may be able to answer:",
}


def who(actors: Sequence[Mapping[str, Any]], count: int) -> str:
    """ "Ada", "Ada and Bob", "Ada and 3 others"."""
    names = [a.get("name") or a.get("preferredUsername") or "Someone" for a in actors]
    if not names:
        return "Someone"
    others = max(count - 1, 0)
    if others == 0:
        return str(names[0])
    if others == 1 and len(names) > 1:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} and {others} others"


def describe(
    type_: str, actors: Sequence[Mapping[str, Any]], count: int, obj: Mapping[str, Any] | None
) -> str:
    """The notification as a sentence."""
    title = (obj or {}).get("name") or ""
    quoted = f" “{title}”" if title else ""
    if type_ == "task_due":
        when = (obj or {}).get("due_in") or "soon"
        return f"Due {when}:{quoted}" if quoted else f"A task is due {when}"
    if type_ == "follow":
        return f"{who(actors, count)} {_PHRASES['follow']}"
    if type_ == "question_routed" and (reason := (obj or {}).get("reason")):
        # Why them of all people: the sentence analytics gave when it ranked them.
        return f"{who(actors, count)} {_PHRASES[type_]}{quoted}. Why you: {reason}"
    return f"{who(actors, count)} {_PHRASES.get(type_, 'did something')}{quoted}"
