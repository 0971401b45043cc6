"""Commands on the social graph: follow and unfollow people and hashtags, block, mute.

``PUT`` is idempotent: a relation that already exists is returned as it is and emits nothing.
Every relation row keeps the id of the activity that created it; its ``Undo`` embeds that
activity (type, id, actor, object), so consumers match it without a lookup.

Activities (docs/architecture.md §5 resolves the audience from ``visibility`` and ``to``):

- ``Follow`` {object: Person}: ``direct`` to the followee, who is told of a new follower.
- ``Follow`` {object: Hashtag}, ``Block`` {object: Person}, ``Ignore`` {object: Person} (a
  mute): ``direct`` with no addressee. Nobody is told, least of all the blocked or muted
  person; fan-out and notifications still read them to maintain their projections.
- ``Undo`` {object: the original activity}: the same visibility and ``to`` as what it undoes,
  so the same feeds drop it. Blocking someone also ends the follows between the two; each
  ends with an ``Undo`` whose actor is the original follower, so it shares the Follow's key
  and arrives after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canopy_common.db import Connection
from canopy_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from canopy_common.events import Visibility
from canopy_common.iris import tag_iri, user_iri
from canopy_common.tracing import current_traceparent
from canopy_ingestion.adapters import graph, outbox, people
from canopy_ingestion.adapters.graph import BLOCK, FOLLOW, MUTE, TAG_FOLLOW, Relation, RelationKind
from canopy_ingestion.domain.activities import CanonicalActivity, activity, person
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.text import validate_hashtag
from canopy_ingestion.handlers.people import find_visible_person

Doc = dict[str, Any]


@dataclass(frozen=True)
class RelationResult:
    """A relation after a ``PUT``: since when it exists, and whether this call created it."""

    target: str
    since: datetime
    created: bool


# --- people ---------------------------------------------------------------------------------


async def handle_follow(user_id: str, *, conn: Connection, actor: User) -> RelationResult:
    """Follow a person. 422 for oneself, 404 for someone the actor cannot see, 403 when they
    blocked the actor, 409 when the actor blocked them."""
    followee = await _other_person(conn, actor, user_id, verb="follow")
    if await graph.get_relation(conn, BLOCK, actor.tenant_id, followee.id, actor.id):
        raise Forbidden("you cannot follow this person")
    if await graph.get_relation(conn, BLOCK, actor.tenant_id, actor.id, followee.id):
        raise Conflict(f"you blocked @{followee.handle}; unblock them to follow them")
    follow = _activity("Follow", actor, person(followee), to=[_iri(followee)])
    return await _add(conn, FOLLOW, actor, followee.id, follow)


async def handle_unfollow(user_id: str, *, conn: Connection, actor: User) -> None:
    """Stop following a person; 404 when the actor does not follow them."""
    followee = await _known_person(conn, actor, user_id)
    removed = await _remove(
        conn, FOLLOW, actor, followee.id, missing="you do not follow this person"
    )
    await outbox.append(conn, _undo_follow(actor, followee, removed))


async def handle_block(user_id: str, *, conn: Connection, actor: User) -> RelationResult:
    """Block a person, ending the follows between the two (each with its Undo)."""
    blocked = await _other_person(conn, actor, user_id, verb="block")
    block = _activity("Block", actor, person(blocked))
    result = await _add(conn, BLOCK, actor, blocked.id, block)
    if result.created:
        ended = await graph.remove_follows_between(conn, actor.tenant_id, actor.id, blocked.id)
        undos = [
            _undo_follow(actor, blocked, rel)
            if rel.owner_id == actor.id
            else _undo_follow(blocked, actor, rel)
            for rel in ended
        ]
        if undos:
            await outbox.append(conn, *undos)
    return result


async def handle_unblock(user_id: str, *, conn: Connection, actor: User) -> None:
    blocked = await _known_person(conn, actor, user_id)
    removed = await _remove(
        conn, BLOCK, actor, blocked.id, missing="you have not blocked this person"
    )
    await outbox.append(conn, _undo(actor, "Block", removed, person(blocked)))


async def handle_mute(user_id: str, *, conn: Connection, actor: User) -> RelationResult:
    """Mute a person: an ``Ignore`` (AS2's word for it)."""
    muted = await _other_person(conn, actor, user_id, verb="mute")
    return await _add(conn, MUTE, actor, muted.id, _activity("Ignore", actor, person(muted)))


async def handle_unmute(user_id: str, *, conn: Connection, actor: User) -> None:
    muted = await _known_person(conn, actor, user_id)
    removed = await _remove(conn, MUTE, actor, muted.id, missing="you have not muted this person")
    await outbox.append(conn, _undo(actor, "Ignore", removed, person(muted)))


# --- hashtags -------------------------------------------------------------------------------


async def handle_follow_tag(tag: str, *, conn: Connection, actor: User) -> RelationResult:
    """Follow a hashtag (``release`` or ``#Release``; stored lower-case). 422 for a bad tag."""
    name = validate_hashtag(tag)
    return await _add(
        conn, TAG_FOLLOW, actor, name, _activity("Follow", actor, _hashtag(actor, name))
    )


async def handle_unfollow_tag(tag: str, *, conn: Connection, actor: User) -> None:
    name = validate_hashtag(tag)
    removed = await _remove(conn, TAG_FOLLOW, actor, name, missing=f"you do not follow #{name}")
    await outbox.append(conn, _undo(actor, "Follow", removed, _hashtag(actor, name)))


# --- shared ---------------------------------------------------------------------------------


async def _other_person(conn: Connection, actor: User, user_id: str, *, verb: str) -> User:
    if user_id == actor.id:
        raise InvalidInput(f"you cannot {verb} yourself")
    return await find_visible_person(conn, actor, user_id)


async def _known_person(conn: Connection, actor: User, user_id: str) -> User:
    """For ending a relation: any person of the tenant but an erased one (a deactivated
    person too), even one a guest no longer shares a group with (the relation itself is the
    actor's). 404 otherwise."""
    found = await people.get_user(conn, actor.tenant_id, user_id)
    if found is None or found.erased:
        raise NotFound(f"no person {user_id!r} in this tenant")
    return found


async def _add(
    conn: Connection, kind: RelationKind, actor: User, target: str, created_by: CanonicalActivity
) -> RelationResult:
    """Store the relation with its activity and queue that activity; an existing relation is
    returned unchanged and nothing is queued."""
    added = await graph.add_relation(
        conn, kind, actor.tenant_id, actor.id, target, activity_id=created_by.id
    )
    if added is not None:
        await outbox.append(conn, created_by)
        return RelationResult(target, added.since, created=True)
    existing = await graph.get_relation(conn, kind, actor.tenant_id, actor.id, target)
    assert existing is not None  # ON CONFLICT found it; it cannot vanish in this transaction
    return RelationResult(target, existing.since, created=False)


async def _remove(
    conn: Connection, kind: RelationKind, actor: User, target: str, *, missing: str
) -> Relation:
    """End the relation and return it, for its ``Undo``; 404 with ``missing`` when there is
    none."""
    removed = await graph.remove_relation(conn, kind, actor.tenant_id, actor.id, target)
    if removed is None:
        raise NotFound(missing)
    return removed


def _undo_follow(follower: User, followee: User, relation: Relation) -> CanonicalActivity:
    return _undo(follower, "Follow", relation, person(followee), to=[_iri(followee)])


def _undo(
    actor: User,
    undone_type: str,
    relation: Relation,
    undone_object: Doc | str,
    *,
    to: list[str] | None = None,
) -> CanonicalActivity:
    undone: Doc = {
        "type": undone_type,
        "id": relation.activity_id,  # None (dropped) for rows older than activity ids
        "actor": _iri(actor),
        "object": undone_object,
        "published": relation.since,
    }
    return _activity("Undo", actor, undone, to=to)


def _activity(
    type_: str, actor: User, obj: Doc, *, to: list[str] | None = None
) -> CanonicalActivity:
    return activity(
        type_,
        actor=actor,
        obj=obj,
        visibility=Visibility.DIRECT,
        to=to,
        traceparent=current_traceparent(),
    )


def _hashtag(actor: User, name: str) -> Doc:
    return {"type": "Hashtag", "id": tag_iri(actor.tenant_id, name), "name": f"#{name}"}


def _iri(user: User) -> str:
    return user_iri(user.tenant_id, user.id)
