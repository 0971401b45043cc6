"""Ingestion → fanout through the real broker: what people write over ingestion's HTTP API
reaches fanout's feeds, and every feed item's ``object.id`` is the post id ingestion returned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from fanout_harness import Fanout, fanout_settings, object_ids, start_fanout
from ingestion_harness import Api, ingestion_settings
from redis.asyncio import Redis

from canopy_common.db import close_pool, create_pool
from canopy_common.service import Mode
from canopy_common.settings import KafkaSettings
from canopy_ingestion.app import create_app
from canopy_testing.http import serve
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

HOME = "/v1/feeds/home"


@dataclass
class Stack:
    """Ingestion (API, relay and consumers) and fanout, sharing one activities topic."""

    api: Api
    fanout: Fanout

    async def call(
        self, method: str, path: str, tenant: str, user: str, *roles: str, **json: Any
    ) -> Any:
        """An ingestion request that must succeed; its JSON body (``None`` when empty)."""
        headers = self.api.headers(tenant, user, *roles)
        response = await self.api.client.request(method, path, headers=headers, json=json or None)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def provision(self, tenant: str, *people: str) -> None:
        await self.call(
            "PUT", f"/v1/tenants/{tenant}", tenant, "root", "platform_admin", name=tenant
        )
        for person in people:
            profile = {"handle": person, "display_name": person.title()}
            await self.call(
                "PUT", f"/v1/users/{person}", tenant, "admin", "tenant_admin", **profile
            )

    async def post(self, tenant: str, author: str, content: str, **fields: Any) -> str:
        """Publishes a post over ingestion's API and returns the id it answered."""
        created = await self.call("POST", "/v1/posts", tenant, author, content=content, **fields)
        post_id: str = created["id"]
        return post_id

    async def settled(self, tenant: str) -> None:
        """Wait until fanout has applied every activity ingestion queued for ``tenant``."""

        async def applied() -> bool:
            ids = [row["activity_id"] for row in await self.api.outbox(tenant)]
            count = await self.fanout.pool.fetchval(
                "SELECT count(*) FROM consumed_activities WHERE activity_id = ANY($1::text[])",
                ids,
            )
            return bool(ids) and count == len(set(ids))

        await eventually(applied, what=f"fanout to apply tenant {tenant}'s activities")

    async def home(self, tenant: str, reader: str) -> list[Any]:
        return await self.fanout.feed(HOME, tenant, reader)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def services(
    kafka_settings: KafkaSettings, pg_pool: asyncpg.Pool, redis_client: Redis
) -> AsyncIterator[Stack]:
    fanout_config = fanout_settings(kafka_settings)
    base = ingestion_settings(kafka_settings)
    kafka = base.kafka.model_copy(update={"topic_activities": fanout_config.kafka.topic_activities})
    settings = base.model_copy(update={"kafka": kafka, "relay_poll_interval_s": 0.2})
    async for fanout in start_fanout(fanout_config, pg_pool, redis_client):
        async with serve(create_app(settings, Mode.ALL)) as client:
            pool = await create_pool(settings.postgres, schema=settings.db_schema)
            try:
                yield Stack(Api(client, settings, pool), fanout)
            finally:
                await close_pool(pool)
    await pg_pool.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')


async def test_a_post_reaches_followers_home_feed_with_the_id_ingestion_returned(
    services: Stack, tenant_id: str
) -> None:
    t = tenant_id
    await services.provision(t, "ada", "bob", "cy")
    await services.call("PUT", "/v1/follows/ada", t, "bob")
    await services.settled(t)
    for reader in ("bob", "cy"):  # readers active lately get pushes
        assert await services.home(t, reader) == []

    post_id = await services.post(t, "ada", "Shipped the new search!")
    await services.settled(t)

    bob_home = await services.home(t, "bob")
    assert object_ids(bob_home) == [post_id]
    assert bob_home[0]["actor"]["preferredUsername"] == "ada"
    assert bob_home[0]["stats"] == {"replies": 0, "reactions": 0, "reacted": False}
    assert await services.home(t, "cy") == []
    assert object_ids(await services.fanout.feed("/v1/feeds/users/ada", t, "ada")) == [post_id]


async def test_a_private_group_post_reaches_members_and_never_outsiders(
    services: Stack, tenant_id: str
) -> None:
    t = tenant_id
    await services.provision(t, "ada", "bob", "cy")
    group = await services.call("POST", "/v1/groups", t, "ada", name="Secret", visibility="private")
    await services.call("PUT", f"/v1/groups/{group['id']}/members/bob", t, "ada")
    await services.call("PUT", "/v1/follows/ada", t, "cy")  # following the author is not enough
    await services.settled(t)
    for reader in ("bob", "cy"):
        assert await services.home(t, reader) == []

    post_id = await services.post(t, "ada", "Launch date is March 3", group_id=group["id"])
    await services.settled(t)

    group_path = f"/v1/feeds/groups/{group['id']}"
    assert object_ids(await services.fanout.feed(group_path, t, "bob")) == [post_id]
    assert object_ids(await services.home(t, "bob")) == [post_id]
    refused = await services.fanout.get(group_path, t, "cy")
    assert refused.status_code == 404
    assert await services.home(t, "cy") == []
    assert await services.fanout.feed("/v1/feeds/users/ada", t, "cy") == []


async def test_reactions_and_replies_count_on_the_item_and_a_delete_removes_it(
    services: Stack, tenant_id: str
) -> None:
    t = tenant_id
    await services.provision(t, "ada", "bob")
    await services.call("PUT", "/v1/follows/ada", t, "bob")
    await services.settled(t)
    await services.home(t, "bob")
    post_id = await services.post(t, "ada", "The release is out")
    await services.settled(t)

    await services.call("PUT", f"/v1/posts/{post_id}/reactions/celebrate", t, "bob")
    await services.post(t, "bob", "Congrats!", in_reply_to=post_id)
    await services.settled(t)

    items = {item["object"]["id"]: item for item in await services.home(t, "bob")}
    assert items[post_id]["stats"] == {"replies": 1, "reactions": 1, "reacted": True}

    await services.call("DELETE", f"/v1/posts/{post_id}", t, "ada")
    await services.settled(t)

    assert post_id not in object_ids(await services.home(t, "bob"))
