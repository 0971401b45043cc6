"""Bookmarks: PUT/DELETE /v1/bookmarks/{post_id}, GET /v1/bookmarks — private, idempotent,
newest first, only posts still visible; erasure drops them (docs/architecture.md §16)."""

from __future__ import annotations

import httpx
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company

from canopy_common.iris import new_object_id
from canopy_testing.factories import new_tenant_id

pytestmark = pytest.mark.integration


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    return await company(api, tenant)


async def mark(acme: Company, user: str, post_id: str, *, method: str = "PUT") -> httpx.Response:
    return await acme.api.client.request(
        method, f"/v1/bookmarks/{post_id}", headers=acme.headers(user)
    )


async def bookmarked(acme: Company, user: str) -> list[str]:
    response = await acme.api.client.get("/v1/bookmarks", headers=acme.headers(user))
    assert response.status_code == 200, response.text
    assert all(item["bookmarked"] for item in response.json()["items"])
    return [item["id"] for item in response.json()["items"]]


async def test_bookmarks_are_idempotent_private_and_newest_first_in_pages(acme: Company) -> None:
    older = await acme.posted("grace", content="Runbook")
    newer = await acme.posted("linus", content="Postmortem")
    published = len(await acme.activities())

    answers = [(await mark(acme, "ada", post_id)).status_code for post_id in (older, newer, older)]
    first = await acme.api.client.get("/v1/bookmarks?limit=1", headers=acme.headers("ada"))
    rest = await acme.api.client.get(
        first.headers["link"].split(";")[0].strip("<>"), headers=acme.headers("ada")
    )
    forged = await acme.api.client.get("/v1/bookmarks?cursor=e30", headers=acme.headers("ada"))

    assert answers == [204, 204, 204]
    assert [i["id"] for i in [*first.json()["items"], *rest.json()["items"]]] == [newer, older]
    assert rest.json()["next_cursor"] is None
    assert (forged.status_code, forged.headers["content-type"]) == (400, PROBLEM)
    assert await bookmarked(acme, "grace") == []
    assert len(await acme.activities()) == published  # private: nothing published
    removed = [(await mark(acme, "ada", newer, method="DELETE")).status_code for _ in range(2)]
    assert removed == [204, 204]
    assert await bookmarked(acme, "ada") == [older]


async def test_a_deleted_post_or_one_no_longer_seen_drops_out_of_bookmarks(
    acme: Company,
) -> None:
    group_id = await acme.group("grace", "private", "ada")
    in_group = await acme.posted("grace", content="Plan", group_id=group_id)
    deleted = await acme.posted("grace", content="Draft")
    for post_id in (in_group, deleted):
        assert (await mark(acme, "ada", post_id)).status_code == 204

    await acme.api.client.delete(f"/v1/posts/{deleted}", headers=acme.headers("grace"))
    await acme.api.pool.execute(
        "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = 'ada'", acme.tenant
    )

    assert await bookmarked(acme, "ada") == []
    # Their own bookmark of a post they no longer see is still theirs to remove.
    assert (await mark(acme, "ada", in_group, method="DELETE")).status_code == 204
    assert (await mark(acme, "ada", in_group, method="DELETE")).status_code == 404


async def test_bookmarking_a_post_you_may_not_see_is_404(acme: Company, api: Api) -> None:
    group_id = await acme.group("grace", "private")
    secret = await acme.posted("grace", content="Salaries", group_id=group_id)
    other = await company(api, new_tenant_id())

    for response in (
        await mark(acme, "linus", secret),
        await mark(acme, "gus", secret),
        await mark(other, "ada", secret),
        await mark(acme, "ada", new_object_id()),
        await mark(acme, "linus", secret, method="DELETE"),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM
    count = "SELECT count(*) FROM bookmarks WHERE post_id = $1"
    assert await acme.api.pool.fetchval(count, secret) == 0


async def test_erasing_a_person_removes_their_bookmarks(acme: Company) -> None:
    post_id = await acme.posted("grace", content="Runbook")
    assert (await mark(acme, "ada", post_id)).status_code == 204

    erased = await acme.api.client.delete(
        "/v1/users/ada", headers=acme.headers("root", "tenant_admin")
    )

    assert erased.status_code == 204, erased.text
    left = await acme.api.pool.fetchval(
        "SELECT count(*) FROM bookmarks WHERE tenant_id = $1", acme.tenant
    )
    assert left == 0
