"""GET /v1/questions: by status, group, hashtag and author, newest first, in pages, and only the
questions the caller may see (docs/architecture.md §16)."""

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


async def questions(acme: Company, user: str, **params: Any) -> httpx.Response:
    return await acme.api.client.get("/v1/questions", params=params, headers=acme.headers(user))


async def listed(acme: Company, user: str, **params: Any) -> list[str]:
    response = await questions(acme, user, **params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_questions_by_status_newest_first(acme: Company) -> None:
    open_ = await acme.posted("ada", content="Who owns billing?", kind="question")
    answered = await acme.posted("ada", content="Where are the docs?", kind="question")
    await acme.posted("grace", content="In the wiki", kind="answer", in_reply_to=answered)
    solved = await acme.posted("ada", content="How to deploy?", kind="question")
    answer = await acme.posted("linus", content="make deploy", kind="answer", in_reply_to=solved)
    accept = await acme.api.client.post(
        f"/v1/posts/{solved}/accept", json={"answer_id": answer}, headers=acme.headers("ada")
    )
    assert accept.status_code == 200
    withdrawn = await acme.posted("ada", content="Lunch spot?", kind="question")
    gone = await acme.posted("grace", content="Canteen", kind="answer", in_reply_to=withdrawn)
    await acme.api.client.delete(f"/v1/posts/{gone}", headers=acme.headers("grace"))
    await acme.posted("ada", content="Not a question")

    assert await listed(acme, "linus") == [withdrawn, solved, answered, open_]
    assert await listed(acme, "linus", status="unanswered") == [withdrawn, open_]
    assert await listed(acme, "linus", status="answered") == [answered]
    assert await listed(acme, "linus", status="accepted") == [solved]
    mine = await acme.posted("linus", content="Who runs the canteen?", kind="question")
    assert await listed(acme, "linus", author="linus") == [mine]
    assert await listed(acme, "grace", author="ada", status="answered") == [answered]
    assert await listed(acme, "grace", author="nobody") == []
    [doc] = (await questions(acme, "linus", status="accepted")).json()["items"]
    assert (doc["acceptedAnswer"], doc["replies_count"]) == (answer, 1)


async def test_a_private_groups_questions_are_for_its_members_only(acme: Company, api: Api) -> None:
    group_id = await acme.group("ada", "private", "grace")
    secret = await acme.posted("ada", content="Layoffs #hr?", kind="question", group_id=group_id)
    public = await acme.posted("ada", content="Open #HR day?", kind="question", visibility="public")
    internal = await acme.posted("ada", content="Parking?", kind="question")
    other = await company(api, new_tenant_id())

    assert await listed(acme, "grace") == [internal, public, secret]
    assert await listed(acme, "grace", group_id=group_id) == [secret]
    assert await listed(acme, "grace", tag="#Hr") == [public, secret]
    assert await listed(acme, "linus") == [internal, public]
    assert await listed(acme, "linus", tag="hr") == [public]
    assert await listed(acme, "gus") == [public]  # a guest: public only
    for response in (
        await questions(acme, "linus", group_id=group_id),
        await questions(acme, "gus", group_id=group_id),
        await questions(other, "ada", group_id=group_id),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM
    assert await listed(other, "ada") == []


async def test_questions_come_in_pages_linked_and_a_forged_cursor_is_400(acme: Company) -> None:
    asked = [await acme.posted("ada", content=f"Q{i}?", kind="question") for i in range(3)]

    first = await questions(acme, "grace", limit=2)
    link = first.headers["link"]
    rest = await acme.api.client.get(link.split(";")[0].strip("<>"), headers=acme.headers("grace"))
    forged = await questions(acme, "grace", cursor="WzEsMl0")

    assert link.endswith('rel="next"')
    assert [i["id"] for i in [*first.json()["items"], *rest.json()["items"]]] == asked[::-1]
    assert rest.json()["next_cursor"] is None
    assert forged.status_code == 400
    assert forged.headers["content-type"] == PROBLEM
