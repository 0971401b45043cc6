"""Pinned posts and announcements in groups over HTTP (docs/architecture.md §16)."""

from __future__ import annotations

import httpx
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company

from canopy_common.events import ref_id
from canopy_common.vocabulary.canonical import check_canonical
from canopy_common.vocabulary.changes import Pin, change_of
from canopy_ingestion.domain.pins import MAX_PINS

pytestmark = pytest.mark.integration


async def put_pin(c: Company, user: str, group: str, post: str) -> httpx.Response:
    return await c.api.client.put(f"/v1/groups/{group}/pins/{post}", headers=c.headers(user))


async def delete_pin(c: Company, user: str, group: str, post: str) -> httpx.Response:
    return await c.api.client.delete(f"/v1/groups/{group}/pins/{post}", headers=c.headers(user))


async def pinned(c: Company, user: str, group: str, **params: str | int) -> httpx.Response:
    return await c.api.client.get(
        f"/v1/groups/{group}/pins", params=params, headers=c.headers(user)
    )


def refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_admins_pin_up_to_the_limit_and_everyone_who_sees_the_group_reads_them_newest_first(
    api: Api, tenant: str
) -> None:
    c = await company(api, tenant)
    guild = await c.group("ada", "public", "grace")
    other = await c.group("ada", "public")
    posts = [await c.posted("grace", content=f"Post {n}", group_id=guild) for n in range(MAX_PINS)]
    members_only = posts[0]
    public = await c.posted("grace", content="For everyone", group_id=guild, visibility="public")
    elsewhere = await c.posted("ada", content="Not here", group_id=other)
    reply = await c.posted("ada", content="A reply", in_reply_to=public)

    assert (await put_pin(c, "ada", guild, public)).status_code == 201
    again = await put_pin(c, "ada", guild, public)
    assert again.status_code == 200
    assert again.json()["pinned_by"] == "ada"
    for post in posts[:-1]:
        assert (await put_pin(c, "ada", guild, post)).status_code == 201
    full = await put_pin(c, "ada", guild, posts[-1])
    refused(full, 409)
    assert full.json()["limit"] == MAX_PINS
    refused(await put_pin(c, "grace", guild, posts[-1]), 403)  # a member
    refused(await put_pin(c, "ada", guild, elsewhere), 404)  # another group's post
    refused(await put_pin(c, "ada", guild, reply), 422)

    newest_first = [*reversed(posts[:-1]), public]
    listed = await pinned(c, "grace", guild)
    assert [item["post"]["id"] for item in listed.json()["items"]] == newest_first
    page = await pinned(c, "grace", guild, limit=2)
    rest = await pinned(c, "grace", guild, limit=10, cursor=page.json()["next_cursor"])
    assert [i["post"]["id"] for i in rest.json()["items"]] == newest_first[2:]
    refused(await pinned(c, "grace", guild, cursor="e30"), 400)
    # linus is no member: of the pins he sees only the public post.
    stranger = await pinned(c, "linus", guild)
    assert [item["post"]["id"] for item in stranger.json()["items"]] == [public]

    assert (await delete_pin(c, "ada", guild, members_only)).status_code == 204
    refused(await delete_pin(c, "ada", guild, members_only), 404)
    adds, removes = await c.published("Add"), await c.published("Remove")
    assert len(adds) == MAX_PINS
    assert len(removes) == 1
    for activity in (adds[0], removes[0]):
        check_canonical(activity)
        assert isinstance(change_of(activity), Pin)
    assert adds[0].target is not None
    assert ref_id(adds[0].target) == f"{guild}/featured"
    assert ref_id(removes[0].object) == members_only


async def test_pins_of_a_private_group_are_its_members_business(api: Api, tenant: str) -> None:
    c = await company(api, tenant)
    team = await c.group("ada", "private", "grace")
    post = await c.posted("grace", content="Plan", group_id=team)
    assert (await put_pin(c, "ada", team, post)).status_code == 201

    refused(await pinned(c, "linus", team), 404)
    refused(await put_pin(c, "linus", team, post), 404)
    other_tenant = await api.client.get(
        f"/v1/groups/{team}/pins", headers=api.headers(f"{tenant}x", "ada")
    )
    assert other_tenant.status_code in (403, 404)  # not even a person there
    assert (await pinned(c, "grace", team)).json()["items"][0]["post"]["id"] == post


async def test_announcements_come_from_group_admins_or_tenant_admins_only(
    api: Api, tenant: str
) -> None:
    c = await company(api, tenant)
    guild = await c.group("ada", "public", "grace", admins=("linus",))
    announce = {"content": "All-hands on Friday", "kind": "announcement"}

    member = await c.post("grace", **announce, group_id=guild)
    refused(member, 403)
    assert "admins and owners" in member.json()["detail"]
    assert (await c.post("linus", **announce, group_id=guild)).status_code == 201
    assert (await c.post("ada", **announce, group_id=guild)).status_code == 201
    refused(await c.post("ada", **announce), 403)  # tenant-wide: tenant admins only
    assert (await c.post("grace", "tenant_admin", **announce)).status_code == 201
    refused(await c.post("grace", "tenant_admin", **announce, group_id=guild), 403)
    await api.seed_user(tenant, "hr-bot", kind="bot")
    assert (await c.post("hr-bot", **announce)).status_code == 201  # upstream systems may
