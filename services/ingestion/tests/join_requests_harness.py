"""Helpers for the join request tests: groups made over HTTP, asking, answering, and what the
outbox holds (importable from every ingestion test, like the other harnesses)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from ingestion_harness import Api

from canopy_common.events import AS2Object, StrictActivity, decode_activity, encode
from canopy_testing.factories import ActivityFactory

PROBLEM = "application/problem+json"


async def activities(api: Api, tenant: str) -> list[StrictActivity]:
    return [decode_activity(row["payload"]) for row in await api.outbox(tenant)]


async def create_group(
    api: Api, tenant: str, owner: str, visibility: str = "internal", policy: str = "request"
) -> str:
    """A group made over HTTP (so its Create and the owner's Join are in the outbox)."""
    response = await api.client.post(
        "/v1/groups",
        json={"name": "Guild", "visibility": visibility, "join_policy": policy},
        headers=api.headers(tenant, owner),
    )
    assert response.status_code == 201, response.text
    group_id: str = response.json()["id"]
    return group_id


async def put_member(
    api: Api, tenant: str, caller: str, group: str, user: str, **headers: str
) -> httpx.Response:
    """Join or ask to join (``user`` is the caller), or add someone (an admin)."""
    return await api.client.put(
        f"/v1/groups/{group}/members/{user}", headers=api.headers(tenant, caller, **headers)
    )


async def ask(api: Api, tenant: str, user: str, group: str, **headers: str) -> httpx.Response:
    return await put_member(api, tenant, user, group, user, **headers)


async def list_requests(
    api: Api, tenant: str, caller: str, group: str, **params: Any
) -> httpx.Response:
    return await api.client.get(
        f"/v1/groups/{group}/join-requests", params=params, headers=api.headers(tenant, caller)
    )


async def end_request(
    api: Api, tenant: str, caller: str, group: str, requester: str
) -> httpx.Response:
    return await api.client.delete(
        f"/v1/groups/{group}/join-requests/{requester}", headers=api.headers(tenant, caller)
    )


async def pending(api: Api, tenant: str, group: str) -> list[str]:
    """Who has a pending request to join the group (from the table)."""
    rows = await api.pool.fetch(
        "SELECT requester_id FROM join_requests WHERE tenant_id = $1 AND group_id = $2 "
        "ORDER BY requester_id",
        tenant,
        group,
    )
    return [row["requester_id"] for row in rows]


async def member_role(api: Api, tenant: str, group: str, user: str) -> str | None:
    role: str | None = await api.pool.fetchval(
        "SELECT role FROM memberships WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
        tenant,
        group,
        user,
    )
    return role


def group_object(created: list[StrictActivity]) -> AS2Object:
    """The Group of the first activity in the outbox (the group's Create)."""
    group = created[0].object
    assert isinstance(group, AS2Object)
    return group


def person(f: ActivityFactory, user: str) -> StrictActivity:
    """The person ``Api.seed_user`` provisions, as the factory makes them."""
    return f.user(user, user_id=user, display_name=user.title())


def wire(activity: StrictActivity) -> dict[str, Any]:
    """The activity as consumers read it, less what differs between any two activities."""
    doc: dict[str, Any] = orjson.loads(encode(activity))
    for member in ("id", "published", "traceparent"):
        doc.pop(member, None)
    return doc
