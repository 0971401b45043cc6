"""Reading the social graph over HTTP: followers, following, relationships, followed hashtags
(docs/architecture.md §16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ingestion_harness import Api

from canopy_common.paging import encode_cursor

pytestmark = pytest.mark.integration

T0 = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)


async def people(api: Api, tenant: str, *users: str, kind: str = "employee") -> None:
    for user in users:
        await api.seed_user(tenant, user, kind=kind)


async def follow(api: Api, tenant: str, follower: str, followee: str, minute: int) -> None:
    """A follow made at ``T0`` plus ``minute`` minutes (so the order is known)."""
    await api.pool.execute(
        "INSERT INTO follows (tenant_id, follower_id, followee_id, created_at) "
        "VALUES ($1, $2, $3, $4)",
        tenant,
        follower,
        followee,
        T0 + timedelta(minutes=minute),
    )


async def relate(api: Api, tenant: str, table: str, owner: str, target: str) -> None:
    columns = {"blocks": "blocker_id, blocked_id", "mutes": "user_id, muted_id"}[table]
    await api.pool.execute(
        f"INSERT INTO {table} (tenant_id, {columns}) VALUES ($1, $2, $3)", tenant, owner, target
    )


async def get(api: Api, tenant: str, caller: str, path: str, **params: Any) -> Any:
    return await api.client.get(path, params=params, headers=api.headers(tenant, caller))


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# --- followers and following ----------------------------------------------------------------


async def test_followers_are_listed_newest_follow_first_page_by_page(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob", "cy", "dee", "eve")
    for minute, follower in enumerate(("bob", "cy", "dee")):
        await follow(api, tenant, follower, "ada", minute)
    await follow(api, tenant, "ada", "eve", 9)

    first = await get(api, tenant, "eve", "/v1/users/ada/followers", limit=2)
    cursor = first.json()["next_cursor"]
    second = await get(api, tenant, "eve", "/v1/users/ada/followers", limit=2, cursor=cursor)
    following = await get(api, tenant, "eve", "/v1/users/ada/following")

    assert ids(first) == ["dee", "cy"]
    assert first.json()["items"][0] == {
        "id": "dee",
        "handle": "dee",
        "display_name": "Dee",
        "title": None,
        "active": True,
        "since": "2025-01-31T09:02:00Z",
    }
    assert first.headers["link"].endswith('>; rel="next"')
    assert f"cursor={cursor}" in first.headers["link"]
    assert (ids(second), second.json()["next_cursor"]) == (["bob"], None)
    assert "link" not in second.headers
    assert ids(following) == ["eve"]


@pytest.mark.parametrize("relation", ["followers", "following"])
@pytest.mark.parametrize(
    "whom", ["another tenant's person", "an erased person", "an unknown id", "a guest's stranger"]
)
async def test_lists_of_a_person_the_caller_may_not_see_are_404(
    api: Api, tenant: str, relation: str, whom: str
) -> None:
    other = f"{tenant}-x"
    await people(api, tenant, "ada", "bob", "gone")
    await people(api, tenant, "gus", kind="guest")
    await people(api, other, "zed")
    await follow(api, tenant, "ada", "bob", 0)
    erased = await api.client.delete(
        "/v1/users/gone", headers=api.headers(tenant, "root", "tenant_admin")
    )
    assert erased.status_code == 204
    caller, target = {
        "another tenant's person": ("ada", "zed"),
        "an erased person": ("ada", "gone"),
        "an unknown id": ("ada", "nobody"),
        "a guest's stranger": ("gus", "bob"),
    }[whom]

    response = await get(api, tenant, caller, f"/v1/users/{target}/{relation}")

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor!", id="garbage"),
        pytest.param(encode_cursor("bob", "2025-01-31"), id="wrong types"),
        pytest.param(encode_cursor(T0), id="too short"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/users/ada/followers", "/v1/tag-follows"])
async def test_a_cursor_the_api_did_not_give_out_is_400(
    api: Api, tenant: str, path: str, cursor: str
) -> None:
    await people(api, tenant, "ada")

    response = await get(api, tenant, "ada", path, cursor=cursor)

    assert response.status_code == 400, response.text
    assert response.json()["field"] == "cursor"


async def test_someone_who_blocked_the_caller_shows_them_empty_lists(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob", "cy")
    await follow(api, tenant, "cy", "ada", 0)
    await follow(api, tenant, "ada", "cy", 1)
    await relate(api, tenant, "blocks", "ada", "bob")

    followers = await get(api, tenant, "bob", "/v1/users/ada/followers")
    following = await get(api, tenant, "bob", "/v1/users/ada/following")

    assert (ids(followers), ids(following)) == ([], [])
    assert ids(await get(api, tenant, "cy", "/v1/users/ada/followers")) == ["cy"]


async def test_people_the_caller_blocked_was_blocked_by_or_muted_are_left_out_of_others_lists(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada", "bob", "cy", "dee", "eve")
    for minute, follower in enumerate(("bob", "cy", "dee", "eve")):
        await follow(api, tenant, follower, "ada", minute)
    await relate(api, tenant, "blocks", "eve", "bob")  # eve blocked bob
    await relate(api, tenant, "blocks", "cy", "eve")  # cy blocked eve
    await relate(api, tenant, "mutes", "eve", "dee")  # eve muted dee

    seen_by_eve = await get(api, tenant, "eve", "/v1/users/ada/followers")
    seen_by_ada = await get(api, tenant, "ada", "/v1/users/ada/followers")

    assert ids(seen_by_eve) == ["eve"]
    assert ids(seen_by_ada) == ["eve", "dee", "cy", "bob"]


async def test_a_guest_sees_on_a_list_only_the_people_they_share_a_group_with(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada", "bob", "cy")
    await people(api, tenant, "gus", kind="guest")
    await api.seed_group(tenant, "g1", owner="ada", visibility="private")
    await api.seed_member(tenant, "g1", "gus")
    await api.seed_member(tenant, "g1", "cy")
    for minute, follower in enumerate(("bob", "cy", "gus")):
        await follow(api, tenant, follower, "ada", minute)

    response = await get(api, tenant, "gus", "/v1/users/ada/followers")

    assert ids(response) == ["gus", "cy"]


# --- relationships --------------------------------------------------------------------------


async def test_relationships_say_how_the_caller_relates_to_each_person_asked(
    api: Api, tenant: str
) -> None:
    other = f"{tenant}-x"
    await people(api, tenant, "ada", "bob", "cy", "dee", "gone")
    await people(api, other, "zed")
    await follow(api, tenant, "ada", "bob", 0)
    await follow(api, tenant, "cy", "ada", 1)
    await relate(api, tenant, "blocks", "ada", "dee")
    await relate(api, tenant, "mutes", "ada", "cy")
    await api.pool.execute(
        "UPDATE users SET active = false WHERE tenant_id = $1 AND id = 'gone'", tenant
    )

    response = await api.client.get(
        "/v1/relationships?id=dee&id=zed&id=bob&id=nobody&id=cy&id=gone&id=bob",
        headers=api.headers(tenant, "ada"),
    )

    assert response.status_code == 200, response.text
    assert response.json() == [
        {"id": "dee", "following": False, "followed_by": False, "blocking": True, "muting": False},
        {"id": "bob", "following": True, "followed_by": False, "blocking": False, "muting": False},
        {"id": "cy", "following": False, "followed_by": True, "blocking": False, "muting": True},
    ]


async def test_a_guest_gets_relationships_only_to_people_they_share_a_group_with(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada", "bob")
    await people(api, tenant, "gus", kind="guest")
    await api.seed_group(tenant, "g1", owner="ada", visibility="private")
    await api.seed_member(tenant, "g1", "gus")

    response = await api.client.get(
        "/v1/relationships?id=ada&id=bob", headers=api.headers(tenant, "gus")
    )

    assert [rel["id"] for rel in response.json()] == ["ada"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="no id"),
        pytest.param("&".join(f"id=u{i}" for i in range(41)), id="41 ids"),
    ],
)
async def test_relationships_need_one_to_forty_ids(api: Api, tenant: str, query: str) -> None:
    await people(api, tenant, "ada")

    response = await api.client.get(
        f"/v1/relationships?{query}", headers=api.headers(tenant, "ada")
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.id"


# --- followed hashtags ----------------------------------------------------------------------


async def test_the_caller_lists_the_hashtags_they_follow_newest_first(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada", "bob")
    for path in ("/v1/tag-follows/release", "/v1/tag-follows/%23Ops", "/v1/tag-follows/python"):
        followed = await api.client.put(path, headers=api.headers(tenant, "ada"))
        assert followed.status_code == 201, followed.text
    await api.client.put("/v1/tag-follows/golang", headers=api.headers(tenant, "bob"))

    first = await get(api, tenant, "ada", "/v1/tag-follows", limit=2)
    rest = await get(api, tenant, "ada", "/v1/tag-follows", cursor=first.json()["next_cursor"])

    tags = [item["tag"] for page in (first, rest) for item in page.json()["items"]]
    assert tags == ["python", "ops", "release"]
    assert rest.json()["next_cursor"] is None
