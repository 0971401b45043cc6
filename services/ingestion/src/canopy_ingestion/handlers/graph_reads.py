"""Reads of the social graph: a person's followers and whom they follow, the caller's
relationships to people, the caller's followed hashtags (docs/architecture.md §16).

Whom a list shows is the profile rule (``domain.permissions.can_see_person``): a person the
caller may not see is 404, and a guest sees on a list only the people they share a group
with. Blocks and mutes, as Mastodon: someone who blocked the caller shows them empty lists;
the people the caller blocked, was blocked by or muted are left out of others' lists (the
caller's own lists show everyone they follow or are followed by). Each page is one keyset
query, newest follow first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from canopy_common.db import Connection
from canopy_common.errors import InvalidInput
from canopy_common.paging import decode_cursor, encode_cursor, trim
from canopy_ingestion.adapters import graph
from canopy_ingestion.adapters.graph import BLOCK, Connected, Relation, RelationsTo
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.permissions import can_see_person
from canopy_ingestion.handlers.people import find_visible_person

# People one relationships request asks about: a screenful of names (Mastodon's clients ask
# for about as many at once). More is a 422.
RELATIONSHIPS_MAX = 40


Item = TypeVar("Item")


@dataclass(frozen=True)
class PageOf(Generic[Item]):
    """One page of a list and the cursor of the next (None on the last)."""

    items: Sequence[Item]
    next_cursor: str | None


async def handle_connections(
    user_id: str,
    *,
    conn: Connection,
    viewer: User,
    followers: bool,
    limit: int,
    cursor: str | None,
) -> PageOf[Connected]:
    """The people who follow ``user_id`` (``followers``) or whom they follow, newest follow
    first. 404 for a person the viewer may not see; 400 for a bad cursor."""
    after = _position(cursor)
    person = await find_visible_person(conn, viewer, user_id, former=True)
    own = person.id == viewer.id
    if not own and await graph.get_relation(conn, BLOCK, viewer.tenant_id, person.id, viewer.id):
        return PageOf([], None)  # they blocked the viewer
    rows = await graph.connections(
        conn,
        viewer.tenant_id,
        viewer.id,
        person.id,
        followers=followers,
        limit=limit + 1,
        after=after,
        exclude_hidden=not own,
        guest=viewer.is_guest,
    )
    page, more = trim(rows, limit)
    last = page[-1] if more else None
    return PageOf(page, encode_cursor(last.since, last.person.id) if last else None)


async def handle_relationships(
    user_ids: Sequence[str], *, conn: Connection, viewer: User
) -> list[RelationsTo]:
    """The viewer's relations to each person of ``user_ids`` (distinct, in the order asked)
    they may see; the others (unknown, erased, another tenant's, invisible) are left out, as
    Mastodon does, so one stale id does not fail a screenful. More than
    :data:`RELATIONSHIPS_MAX` ids: 422."""
    wanted = list(dict.fromkeys(user_ids))
    if len(wanted) > RELATIONSHIPS_MAX:
        raise InvalidInput(
            f"id: at most {RELATIONSHIPS_MAX} people at once",
            code="limit-exceeded",
            extra={"field": "id", "limit": RELATIONSHIPS_MAX, "actual": len(wanted)},
        )
    found = await graph.relations_to(
        conn, viewer.tenant_id, viewer.id, wanted, guest=viewer.is_guest
    )
    return [
        found[user_id]
        for user_id in wanted
        if user_id in found
        and can_see_person(viewer, found[user_id].person, shares_group=found[user_id].shares_group)
    ]


async def handle_followed_tags(
    *, conn: Connection, viewer: User, limit: int, cursor: str | None
) -> PageOf[Relation]:
    """The hashtags the viewer follows, newest first; 400 for a bad cursor."""
    after = _position(cursor)
    rows = await graph.followed_tags(
        conn, viewer.tenant_id, viewer.id, limit=limit + 1, after=after
    )
    page, more = trim(rows, limit)
    last = page[-1] if more else None
    return PageOf(page, encode_cursor(last.since, last.target) if last else None)


def _position(cursor: str | None) -> tuple[datetime, str] | None:
    """A list's keyset position: the follow's time and the listed id."""
    if cursor is None:
        return None
    since, key = decode_cursor(cursor, (datetime, str))
    return since, key
