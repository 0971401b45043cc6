"""Answering join requests: a group's admins list and decline them, a requester withdraws.

A request is made by ``PUT /v1/groups/{id}/members/{me}`` on a group whose ``join_policy`` is
``request`` (its pending ``Join``, see :mod:`canopy_ingestion.handlers.groups`) and approved by
an admin adding the person (the ``Add`` consumes it). Ending it otherwise emits:

- ``Reject`` {actor: the admin, object: the pending Join's id, target: Group, to: [the
  requester]}: an admin or owner declines it;
- ``Undo`` {actor: the requester, object: the pending Join (type, id, actor, object,
  published, ``status: pending``), target: Group}: the requester withdraws it.

Both take the group's visibility, as every group activity does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from canopy_common import cursors
from canopy_common.activities import JOIN_PENDING
from canopy_common.db import Connection
from canopy_common.iris import user_iri
from canopy_ingestion.adapters import join_requests, outbox
from canopy_ingestion.domain.activities import group
from canopy_ingestion.domain.model import JoinRequest, User
from canopy_ingestion.domain.permissions import (
    JoinRequestEnd,
    decide_join_request_delete,
    decide_join_requests_read,
)
from canopy_ingestion.handlers.groups import group_activity, visible_group


@dataclass(frozen=True)
class ListJoinRequests:
    group_id: str
    limit: int
    cursor: str | None = None


@dataclass(frozen=True)
class JoinRequestPage:
    requests: list[JoinRequest] = field(default_factory=list)
    next_cursor: str | None = None


async def handle_list_join_requests(
    query: ListJoinRequests, *, conn: Connection, actor: User
) -> JoinRequestPage:
    """A page of the group's pending requests, oldest first (admins and owners only)."""
    access = await visible_group(conn, actor, query.group_id, lock=False)
    decide_join_requests_read(actor, access.group, actor_role=access.role)
    found = await join_requests.list_requests(
        conn,
        actor.tenant_id,
        access.group.id,
        limit=query.limit + 1,
        after=_after(query.cursor) if query.cursor else None,
    )
    page = found[: query.limit]
    more = len(found) > query.limit
    last = page[-1] if more else None
    cursor = cursors.encode_cursor(last.created_at, last.requester_id) if last else None
    return JoinRequestPage(page, cursor)


@dataclass(frozen=True)
class EndJoinRequest:
    group_id: str
    user_id: str  # the requester


async def handle_end_join_request(
    cmd: EndJoinRequest, *, conn: Connection, actor: User
) -> JoinRequestEnd:
    """Decline (an admin or owner) or withdraw (the requester) a pending join request; see
    :func:`decide_join_request_delete`."""
    access = await visible_group(conn, actor, cmd.group_id)
    found = access.group
    pending = await join_requests.get_request(conn, actor.tenant_id, found.id, cmd.user_id)
    end = decide_join_request_delete(
        actor,
        found,
        actor_role=access.role,
        requester_id=cmd.user_id,
        pending=pending is not None,
    )
    assert pending is not None  # decide_join_request_delete raised otherwise
    requester = user_iri(actor.tenant_id, pending.requester_id)
    if end is JoinRequestEnd.REJECT:
        ended = group_activity(
            "Reject", found, actor=actor, obj=pending.activity_id, to=[requester]
        )
    else:
        undone = {
            "type": "Join",
            "id": pending.activity_id,
            "actor": requester,
            "object": group(found),
            "published": pending.created_at.isoformat(),
            "status": JOIN_PENDING,
        }
        ended = group_activity("Undo", found, actor=actor, obj=undone)
    await join_requests.remove_request(conn, actor.tenant_id, found.id, pending.requester_id)
    await outbox.append(conn, ended)
    return end


def _after(cursor: str) -> tuple[datetime, str]:
    created_at, requester_id = cursors.decode_cursor(cursor, (datetime, str))
    return created_at, requester_id
