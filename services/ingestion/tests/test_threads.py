"""Reading a thread (GET /v1/posts/{id}/context) and who reacted (GET .../reactions): thread
order, answers and the accepted one, each post as its reader sees it, and only to those who
may see the post (docs/architecture.md §16)."""

from __future__ import annotations

from typing import Any

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


async def read(acme: Company, user: str, path: str, **params: Any) -> httpx.Response:
    return await acme.api.client.get(path, params=params, headers=acme.headers(user))


def ids(posts: list[dict[str, Any]]) -> list[str]:
    return [post["id"] for post in posts]


async def test_a_thread_reads_root_first_and_replies_depth_first_with_the_accepted_answer(
    acme: Company,
) -> None:
    client = acme.api.client
    question = await acme.posted("ada", content="How do we rotate keys?", kind="question")
    first = await acme.posted("grace", content="By hand", kind="answer", in_reply_to=question)
    second = await acme.posted("linus", content="make rotate", kind="answer", in_reply_to=question)
    follow_up = await acme.posted("ada", content="Which hand?", in_reply_to=first)
    accepted = await client.post(
        f"/v1/posts/{question}/accept", json={"answer_id": second}, headers=acme.headers("ada")
    )
    assert accepted.status_code == 200, accepted.text
    for user, kind in (("grace", "like"), ("ada", "like"), ("ada", "insightful")):
        reacted = await client.put(
            f"/v1/posts/{second}/reactions/{kind}", headers=acme.headers(user)
        )
        assert reacted.status_code == 201
    assert (
        await client.put(f"/v1/bookmarks/{second}", headers=acme.headers("ada"))
    ).status_code == 204

    below = await read(acme, "ada", f"/v1/posts/{question}/context")
    above = await read(acme, "grace", f"/v1/posts/{follow_up}/context")
    asked = await read(acme, "linus", f"/v1/posts/{question}")

    assert below.status_code == above.status_code == asked.status_code == 200
    thread = below.json()
    assert thread["ancestors"] == []
    assert ids(thread["descendants"]) == [first, follow_up, second]
    by_id = {post["id"]: post for post in thread["descendants"]}
    assert [by_id[i]["kind"] for i in (first, follow_up, second)] == ["answer", "note", "answer"]
    assert (by_id[first]["accepted"], by_id[second]["accepted"]) == (False, True)
    assert "accepted" not in by_id[follow_up]
    assert by_id[second]["reactions"] == {"like": 2, "insightful": 1}
    assert sorted(by_id[second]["my_reactions"]) == ["insightful", "like"]
    assert (by_id[second]["bookmarked"], by_id[first]["bookmarked"]) == (True, False)
    assert (by_id[first]["replies_count"], by_id[second]["replies_count"]) == (1, 0)
    assert ids(above.json()["ancestors"]) == [question, first]
    assert above.json()["descendants"] == []
    question_doc = asked.json()
    assert question_doc["acceptedAnswer"] == second
    assert question_doc["replies_count"] == 2
    assert (question_doc["reactions"], question_doc["my_reactions"]) == ({}, [])
    assert question_doc["bookmarked"] is False


async def test_deleted_posts_drop_out_of_a_thread_and_their_replies_keep_their_place(
    acme: Company,
) -> None:
    root = await acme.posted("ada", content="Release on Friday")
    gone = await acme.posted("grace", content="Can't make it", in_reply_to=root)
    kept = await acme.posted("linus", content="Me neither", in_reply_to=gone)
    deleted = await acme.api.client.delete(f"/v1/posts/{gone}", headers=acme.headers("grace"))
    assert deleted.status_code == 204

    thread = (await read(acme, "ada", f"/v1/posts/{root}/context")).json()
    root_doc = (await read(acme, "ada", f"/v1/posts/{root}")).json()

    assert ids(thread["descendants"]) == [kept]
    assert thread["descendants"][0]["inReplyTo"]["id"] == gone
    assert root_doc["replies_count"] == 0


async def test_a_private_groups_thread_and_reactions_are_404_to_whoever_may_not_see_it(
    acme: Company, api: Api
) -> None:
    group_id = await acme.group("ada", "private", "grace")
    question = await acme.posted("ada", content="Budget?", kind="question", group_id=group_id)
    answer = await acme.posted("grace", content="Tight", kind="answer", in_reply_to=question)
    other = await company(api, new_tenant_id())  # its own ada, grace, linus

    for path in (
        f"/v1/posts/{question}/context",
        f"/v1/posts/{answer}/context",
        f"/v1/posts/{question}/reactions",
    ):
        assert (await read(acme, "grace", path)).status_code == 200
        for response in (
            await read(acme, "linus", path),  # an employee, no member
            await read(acme, "gus", path),  # a guest
            await read(other, "ada", path),  # another tenant's member
        ):
            assert response.status_code == 404, (path, response.text)
            assert response.headers["content-type"] == PROBLEM
    unknown = await read(acme, "ada", f"/v1/posts/{new_object_id()}/context")
    assert unknown.status_code == 404


async def test_who_reacted_newest_first_by_kind_in_pages(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Shipped")
    for user, kind in (("grace", "like"), ("linus", "celebrate"), ("linus", "like")):
        await acme.api.client.put(
            f"/v1/posts/{post_id}/reactions/{kind}", headers=acme.headers(user)
        )

    first = await read(acme, "ada", f"/v1/posts/{post_id}/reactions", limit=2)
    rest = await acme.api.client.get(
        first.headers["link"].split(";")[0].strip("<>"), headers=acme.headers("ada")
    )
    likes = await read(acme, "ada", f"/v1/posts/{post_id}/reactions", kind="like")
    bad = await read(acme, "ada", f"/v1/posts/{post_id}/reactions", cursor="bm90LWEtY3Vyc29y")

    people = [(r["user_id"], r["kind"]) for r in [*first.json()["items"], *rest.json()["items"]]]
    assert people == [("linus", "like"), ("linus", "celebrate"), ("grace", "like")]
    assert first.json()["items"][0]["display_name"] == "Linus"
    assert first.json()["items"][0]["handle"] == "linus"
    assert (rest.json()["next_cursor"], "link" in rest.headers) == (None, False)
    assert [r["user_id"] for r in likes.json()["items"]] == ["linus", "grace"]
    assert bad.status_code == 400
    assert bad.headers["content-type"] == PROBLEM


async def test_a_guest_sees_only_the_reactors_they_share_a_group_with(acme: Company) -> None:
    group_id = await acme.group("ada", "public", "gus", "grace")
    post_id = await acme.posted("ada", content="Welcome", group_id=group_id, visibility="public")
    for user in ("grace", "linus"):
        await acme.api.client.put(f"/v1/posts/{post_id}/reactions/like", headers=acme.headers(user))

    as_guest = await read(acme, "gus", f"/v1/posts/{post_id}/reactions")
    as_employee = await read(acme, "ada", f"/v1/posts/{post_id}/reactions")

    assert [r["user_id"] for r in as_guest.json()["items"]] == ["grace"]
    assert [r["user_id"] for r in as_employee.json()["items"]] == ["linus", "grace"]


async def test_a_block_hides_each_ones_posts_from_the_other_everywhere(acme: Company) -> None:
    client = acme.api.client
    question = await acme.posted("ada", content="Who knows Rust?", kind="question")
    answer = await acme.posted("grace", content="I do", kind="answer", in_reply_to=question)
    blocked = await client.put("/v1/blocks/grace", headers=acme.headers("ada"))
    assert blocked.status_code in (200, 201, 204), blocked.text

    theirs = await read(acme, "ada", f"/v1/posts/{answer}")
    mine = await read(acme, "grace", f"/v1/posts/{question}")
    thread = await read(acme, "ada", f"/v1/posts/{question}/context")
    replied = await client.post(
        "/v1/posts",
        json={"content": "Still?", "in_reply_to": question},
        headers=acme.headers("grace"),
    )
    bystander = await read(acme, "linus", f"/v1/posts/{question}/context")

    assert theirs.status_code == mine.status_code == 404
    assert theirs.headers["content-type"] == PROBLEM
    assert thread.status_code == 200
    assert thread.json()["descendants"] == []
    assert replied.status_code == 404
    assert ids(bystander.json()["descendants"]) == [answer]
