"""The order of a thread around one of its posts (docs/architecture.md §16). Pure.

A thread is a tree of posts by ``in_reply_to``. Around a post: its ancestors, root first up
to its parent, and its descendants in thread order — depth first by reply, a post's replies
oldest first (then by id), so each reply follows what it answers. The walk crosses every post
it is given, hidden or deleted ones too: which of them a reader is shown is decided after
(a reply to a deleted post still belongs under it, as Mastodon shows it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ThreadNode:
    """A post as its place in the thread needs it."""

    id: str
    in_reply_to: str | None
    published: datetime


@dataclass(frozen=True, slots=True)
class ThreadOrder:
    ancestors: tuple[str, ...]  # root first, up to the post's parent
    descendants: tuple[str, ...]  # thread order


def order_thread(nodes: Iterable[ThreadNode], post_id: str) -> ThreadOrder:
    """The ancestors and descendants of ``post_id`` among ``nodes`` (one thread's posts).

    A parent missing from ``nodes`` ends the walk up there; a cycle (which the write path
    never makes) is walked once.
    """
    by_id = {node.id: node for node in nodes}
    return ThreadOrder(_ancestors(by_id, post_id), _descendants(by_id.values(), post_id))


def _ancestors(by_id: dict[str, ThreadNode], post_id: str) -> tuple[str, ...]:
    found: list[str] = []
    seen = {post_id}
    node = by_id.get(post_id)
    while node is not None and node.in_reply_to is not None and node.in_reply_to not in seen:
        parent = by_id.get(node.in_reply_to)
        if parent is None:
            break
        found.append(parent.id)
        seen.add(parent.id)
        node = parent
    return tuple(reversed(found))


def _descendants(nodes: Iterable[ThreadNode], post_id: str) -> tuple[str, ...]:
    replies: dict[str, list[ThreadNode]] = {}
    for node in nodes:
        if node.in_reply_to is not None:
            replies.setdefault(node.in_reply_to, []).append(node)
    for children in replies.values():
        children.sort(key=lambda child: (child.published, child.id))
    found: list[str] = []
    seen = {post_id}
    # Depth first without recursion (a long chain of replies is no stack risk): the stack holds
    # replies still to visit, the next one on top.
    stack = list(reversed(replies.get(post_id, [])))
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        found.append(node.id)
        stack.extend(reversed(replies.get(node.id, [])))
    return tuple(found)
