"""A small company to post in: people, groups, requests as one of them, published activities.

Shared by the posts, reactions and idempotency tests (importable by name: ``pythonpath``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from ingestion_harness import Api

from canopy_common.events import StrictActivity, decode_activity
from canopy_common.iris import new_object_id

PROBLEM = "application/problem+json"
EMPLOYEES = ("ada", "grace", "linus")
GUESTS = ("gus",)


@dataclass
class Company:
    """One tenant with employees ada, grace and linus, guest gus and inactive olga."""

    api: Api
    tenant: str

    def headers(self, user: str, *roles: str, **extra: str) -> dict[str, str]:
        return self.api.headers(self.tenant, user, *roles, **extra)

    async def post(self, user: str, *roles: str, **body: Any) -> httpx.Response:
        return await self.api.client.post(
            "/v1/posts", json=body, headers=self.headers(user, *roles)
        )

    async def posted(self, user: str, **body: Any) -> str:
        """The id of a post that must be created."""
        response = await self.post(user, **body)
        assert response.status_code == 201, response.text
        post_id: str = response.json()["id"]
        return post_id

    async def get(self, user: str, post_id: str, *roles: str) -> httpx.Response:
        return await self.api.client.get(f"/v1/posts/{post_id}", headers=self.headers(user, *roles))

    async def group(
        self, owner: str, visibility: str, *members: str, admins: tuple[str, ...] = ()
    ) -> str:
        group_id = new_object_id()
        await self.api.seed_group(self.tenant, group_id, owner=owner, visibility=visibility)
        for member in members:
            await self.api.seed_member(self.tenant, group_id, member)
        for admin in admins:
            await self.api.seed_member(self.tenant, group_id, admin, role="admin")
        return group_id

    async def follow(self, follower: str, followee: str) -> None:
        await self.api.pool.execute(
            "INSERT INTO follows (tenant_id, follower_id, followee_id) VALUES ($1, $2, $3)",
            self.tenant,
            follower,
            followee,
        )

    async def activities(self) -> list[StrictActivity]:
        """Everything published for the tenant so far, oldest first."""
        return [decode_activity(row["payload"]) for row in await self.api.outbox(self.tenant)]

    async def published(self, type_: str) -> list[StrictActivity]:
        return [act for act in await self.activities() if act.type == type_]

    async def set_policy(self, rules: list[dict[str, str]] | None) -> None:
        await self.api.pool.execute(
            "UPDATE tenants SET content_policy = $2 WHERE id = $1", self.tenant, rules
        )


async def company(api: Api, tenant: str) -> Company:
    for user in EMPLOYEES:
        await api.seed_user(tenant, user)
    for user in GUESTS:
        await api.seed_user(tenant, user, kind="guest")
    await api.seed_user(tenant, "olga", active=False)
    return Company(api, tenant)


def member(doc: Any, name: str) -> Any:
    """A member of an AS2 model or of a decoded JSON object, by its wire name."""
    if isinstance(doc, dict):
        return doc.get(name)
    dumped = doc.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped.get(name)
