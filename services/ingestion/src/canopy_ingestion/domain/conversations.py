"""Direct conversations: what counts as a message, who takes part, what is unread. Pure rules
(docs/architecture.md §16).

A conversation is a thread of ``direct`` posts (a direct post's replies are direct too, to
everyone in it). Its messages, for one reader, are those the visibility rule shows them —
the ones they wrote, are addressed to or are mentioned in, none by someone they blocked or who
blocked them. A message is unread while it is someone else's and comes after both the reader's
read position and the reader's own last message (writing in a conversation is reading it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from canopy_ingestion.domain.model import PostKind, User

# Tasks and events upstream systems assign to people are direct objects too, but nobody wrote
# them to anyone: they are not messages.
NOT_MESSAGES = frozenset({PostKind.TASK, PostKind.EVENT})

Position = tuple[datetime, str]  # a message's (created at, id): the order of a conversation


def others(reader_id: str, ids: Iterable[str], people: Mapping[str, User]) -> list[User]:
    """The people a conversation shows beside the reader (as Mastodon does), by name; ids with
    no profile at all are left out."""
    found = {uid: people[uid] for uid in ids if uid != reader_id and uid in people}
    return sorted(found.values(), key=lambda user: (user.display_name.casefold(), user.id))
