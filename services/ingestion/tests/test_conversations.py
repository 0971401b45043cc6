"""Direct conversations: GET /v1/conversations, GET /v1/conversations/{id}, POST
/v1/conversations/{id}/read — newest activity first, the last post as the reader reads it,
unread state, only the caller's own threads (docs/architecture.md §16)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company

from canopy_testing.factories import new_tenant_id

pytestmark = pytest.mark.integration


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    return await company(api, tenant)


async def listed(acme: Company, user: str, url: str = "/v1/conversations") -> httpx.Response:
    response = await acme.api.client.get(url, headers=acme.headers(user))
    assert response.status_code == 200, response.text
    return response


async def conversations(acme: Company, user: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await listed(acme, user)).json()["items"]
    return items


async def mark_read(acme: Company, user: str, thread: str, **body: str) -> httpx.Response:
    return await acme.api.client.post(
        f"/v1/conversations/{thread}/read", json=body or None, headers=acme.headers(user)
    )


def unread(items: list[dict[str, Any]]) -> dict[str, tuple[bool, int]]:
    return {item["id"]: (item["unread"], item["unread_count"]) for item in items}


async def test_conversations_list_newest_activity_first_with_people_last_post_and_pages(
    acme: Company,
) -> None:
    lunch = await acme.posted("ada", content="Lunch?", to=["grace"])
    review = await acme.posted("linus", content="Review my PR, @grace?", to=["ada"])
    answer = await acme.posted("grace", content="Yes, noon", in_reply_to=lunch)
    await acme.posted("ada", content="Quarterly numbers")  # internal: no conversation

    items = await conversations(acme, "ada")
    first = await listed(acme, "ada", "/v1/conversations?limit=1")
    rest = await listed(acme, "ada", first.headers["link"].split(";")[0].strip("<>"))
    forged = await acme.api.client.get("/v1/conversations?cursor=e30", headers=acme.headers("ada"))
    as_read = await acme.get("ada", answer)

    assert [item["id"] for item in items] == [lunch, review]
    assert [[p["handle"] for p in item["participants"]] for item in items] == [
        ["grace"],
        ["grace", "linus"],  # the mentioned take part too; the reader is left out
    ]
    assert items[0]["last_post"] == as_read.json()  # the same object GET /v1/posts/{id} has
    assert items[0]["last_activity_at"] == as_read.json()["published"]
    assert unread(items) == {lunch: (True, 1), review: (True, 1)}
    assert [i["id"] for i in [*first.json()["items"], *rest.json()["items"]]] == [lunch, review]
    assert rest.json()["next_cursor"] is None
    assert "link" not in rest.headers
    assert (forged.status_code, forged.headers["content-type"]) == (400, PROBLEM)
    assert [item["id"] for item in await conversations(acme, "grace")] == [lunch, review]


async def test_unread_flips_with_a_new_message_of_the_other_and_with_marking_read(
    acme: Company,
) -> None:
    lunch = await acme.posted("ada", content="Lunch?", to=["grace"])
    assert unread(await conversations(acme, "ada")) == {lunch: (False, 0)}  # one's own
    assert unread(await conversations(acme, "grace")) == {lunch: (True, 1)}

    marked = await mark_read(acme, "grace", lunch)
    assert marked.status_code == 200, marked.text
    assert (marked.json()["unread"], marked.json()["last_read_id"]) == (False, lunch)

    second = await acme.posted("ada", content="Or tomorrow?", in_reply_to=lunch)
    third = await acme.posted("ada", content="Noon works best", in_reply_to=lunch)
    assert unread(await conversations(acme, "grace")) == {lunch: (True, 2)}
    up_to = await mark_read(acme, "grace", lunch, up_to=second)
    again = await mark_read(acme, "grace", lunch, up_to=lunch)  # never moves back
    assert [r.json()["unread_count"] for r in (up_to, again)] == [1, 1]
    assert again.json()["last_read_id"] == second

    await acme.posted("grace", content="Noon it is", in_reply_to=third)  # writing reads
    assert unread(await conversations(acme, "grace")) == {lunch: (False, 0)}
    assert unread(await conversations(acme, "ada")) == {lunch: (True, 1)}
    one = await acme.api.client.get(f"/v1/conversations/{lunch}", headers=acme.headers("ada"))
    assert (one.status_code, one.json()["unread_count"]) == (200, 1)

    foreign = await acme.posted("linus", content="Hi", to=["ada"])
    refused = await mark_read(acme, "grace", lunch, up_to=foreign)
    assert (refused.status_code, refused.headers["content-type"]) == (422, PROBLEM)
    extra = await mark_read(acme, "grace", lunch, up_to=lunch, unread="0")  # not a field
    assert (extra.status_code, extra.headers["content-type"]) == (422, PROBLEM)


async def test_a_conversation_is_404_to_a_third_person_another_tenant_and_for_other_threads(
    acme: Company, api: Api
) -> None:
    lunch = await acme.posted("ada", content="Lunch?", to=["grace"])
    public = await acme.posted("ada", content="Quarterly numbers")
    other = await company(api, new_tenant_id())

    assert await conversations(acme, "linus") == []
    assert await conversations(acme, "gus") == []
    assert await conversations(other, "ada") == []
    for company_of, user in ((acme, "linus"), (acme, "gus"), (other, "ada")):
        for response in (
            await company_of.api.client.get(
                f"/v1/conversations/{lunch}", headers=company_of.headers(user)
            ),
            await mark_read(company_of, user, lunch),
        ):
            assert response.status_code == 404, response.text
            assert response.headers["content-type"] == PROBLEM
    assert (await mark_read(acme, "ada", public)).status_code == 404
    marked = "SELECT count(*) FROM conversation_reads WHERE thread_id = $1"
    assert await acme.api.pool.fetchval(marked, lunch) == 0


async def test_blocked_peoples_messages_are_left_out_and_erasure_drops_read_positions(
    acme: Company,
) -> None:
    lunch = await acme.posted("ada", content="Lunch?", to=["grace"])
    assert (await mark_read(acme, "grace", lunch)).status_code == 200
    blocked = await acme.api.client.put("/v1/blocks/ada", headers=acme.headers("grace"))
    assert blocked.status_code in (200, 201, 204), blocked.text
    await acme.posted("ada", content="Still on?", in_reply_to=lunch)

    assert await conversations(acme, "grace") == []  # nothing of ada's is theirs to see
    (mine,) = await conversations(acme, "ada")
    assert (mine["last_post"]["content"], mine["unread"]) == ("Still on?", False)

    erased = await acme.api.client.delete(
        "/v1/users/grace", headers=acme.headers("root", "tenant_admin")
    )
    assert erased.status_code == 204, erased.text
    left = await acme.api.pool.fetchval(
        "SELECT count(*) FROM conversation_reads WHERE tenant_id = $1", acme.tenant
    )
    assert left == 0
