"""What happens to posts after publishing, over HTTP: editing, deleting, accepting answers,
sharing and flagging — checked on the responses, the rows and the published activities."""

from __future__ import annotations

import pytest
from ingestion_harness import Api
from posts_harness import Company, company, member

from canopy_common.events import ref_id
from canopy_common.iris import new_object_id, user_iri

pytestmark = pytest.mark.integration

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
CARD = "4111 1111 1111 1111"  # a test Visa number: passes the Luhn check


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    return await company(api, tenant)


# --- editing ------------------------------------------------------------------------------------


async def test_the_author_edits_and_an_update_carries_the_whole_new_object(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Hello @grace #draft", name="Notes")

    response = await acme.api.client.patch(
        f"/v1/posts/{post_id}",
        json={"content": "Hello @linus #final"},
        headers=acme.headers("ada"),
    )

    body = response.json()
    assert response.status_code == 200
    assert body["content"] == "Hello @linus #final"
    assert body["name"] == "Notes"
    assert [tag["name"] for tag in body["tag"]] == ["@linus", "#final"]
    assert "updated" in body
    update = (await acme.published("Update"))[-1]
    assert member(update, "object")["content"] == "Hello @linus #final"
    assert member(update, "object")["tag"] == body["tag"]
    assert (await acme.get("grace", post_id)).json() == body


async def test_only_the_author_edits_and_hidden_posts_are_not_found(acme: Company) -> None:
    visible = await acme.posted("ada", content="hi")
    hidden = await acme.posted("ada", content="psst", to=["grace"])

    async def edit(post_id: str) -> int:
        response = await acme.api.client.patch(
            f"/v1/posts/{post_id}", json={"content": "mine now"}, headers=acme.headers("linus")
        )
        return response.status_code

    assert (await edit(visible), await edit(hidden)) == (403, 404)
    assert await acme.published("Update") == []


async def test_an_edit_is_checked_against_the_content_policy_again(acme: Company) -> None:
    post_id = await acme.posted("ada", content="hello", visibility="public")

    response = await acme.api.client.patch(
        f"/v1/posts/{post_id}", json={"content": AWS_KEY}, headers=acme.headers("ada")
    )

    assert response.status_code == 422
    assert response.json()["rule"] == "aws-access-key"


async def test_an_edit_that_changes_nothing_publishes_nothing(acme: Company) -> None:
    post_id = await acme.posted("ada", content="same")

    response = await acme.api.client.patch(
        f"/v1/posts/{post_id}", json={"content": "same"}, headers=acme.headers("ada")
    )

    assert response.status_code == 200
    assert await acme.published("Update") == []


async def test_an_edit_adding_a_secret_flags_it_once(acme: Company) -> None:
    post_id = await acme.posted("ada", content="hello")

    async def edit(content: str) -> int:
        response = await acme.api.client.patch(
            f"/v1/posts/{post_id}", json={"content": content}, headers=acme.headers("ada")
        )
        return response.status_code

    assert await edit(f"key {AWS_KEY}") == 200
    assert await edit(f"the key {AWS_KEY}") == 200  # the same rule again: no second flag
    assert await edit(f"the key {AWS_KEY} and {CARD}") == 200

    rules = [member(flag, "rule") for flag in await acme.published("Flag")]
    assert rules == ["aws-access-key", "card-number"]


async def test_an_edit_changes_the_audience_within_the_same_rules(acme: Company) -> None:
    direct = await acme.posted("ada", content="psst", to=["grace"])
    root = await acme.posted("ada", content="thread")
    reply = await acme.posted("grace", content="reply", in_reply_to=root)

    widened = await acme.api.client.patch(
        f"/v1/posts/{direct}", json={"visibility": "internal"}, headers=acme.headers("ada")
    )
    reply_widened = await acme.api.client.patch(
        f"/v1/posts/{reply}", json={"visibility": "public"}, headers=acme.headers("grace")
    )

    assert widened.status_code == 200
    assert widened.json()["visibility"] == "internal"
    assert "to" not in widened.json()  # addressees belong to direct posts only
    assert (await acme.get("linus", direct)).status_code == 200
    assert reply_widened.status_code == 422


async def test_another_tenants_post_is_not_found_by_every_command(acme: Company, api: Api) -> None:
    other = await company(api, f"{acme.tenant}x")
    question = await other.posted("ada", content="How?", kind="question", visibility="public")
    client, headers = acme.api.client, acme.headers("ada", "member", "moderator")

    responses = [
        await client.patch(f"/v1/posts/{question}", json={"content": "x"}, headers=headers),
        await client.delete(f"/v1/posts/{question}", headers=headers),
        await client.post(
            f"/v1/posts/{question}/accept", json={"answer_id": question}, headers=headers
        ),
        await client.put(f"/v1/posts/{question}/reactions/like", headers=headers),
        await client.delete(f"/v1/posts/{question}/reactions/like", headers=headers),
        await client.post(f"/v1/posts/{question}/shares", headers=headers),
        await client.post(f"/v1/posts/{question}/flags", json={"reason": "x"}, headers=headers),
    ]

    assert [response.status_code for response in responses] == [404] * 7
    assert await acme.activities() == []
    assert [act.type for act in await other.activities()] == ["Create"]


# --- deleting -----------------------------------------------------------------------------------


async def test_the_author_deletes_a_post_and_a_delete_carries_its_tombstone(
    acme: Company,
) -> None:
    post_id = await acme.posted("ada", content="oops", kind="question")

    deleted = await acme.api.client.delete(f"/v1/posts/{post_id}", headers=acme.headers("ada"))

    assert deleted.status_code == 204
    [delete] = await acme.published("Delete")
    tombstone = member(delete, "object")
    assert tombstone["type"] == "Tombstone"
    assert (tombstone["id"], tombstone["formerType"]) == (post_id, "Question")
    assert (await acme.get("ada", post_id)).status_code == 404
    again = await acme.api.client.delete(f"/v1/posts/{post_id}", headers=acme.headers("ada"))
    assert again.status_code == 404
    deleted_at = await acme.api.pool.fetchval("SELECT deleted_at FROM posts WHERE id = $1", post_id)
    assert deleted_at is not None


async def test_group_admins_and_moderators_delete_others_posts_members_may_not(
    acme: Company,
) -> None:
    group_id = await acme.group("ada", "internal", "grace", "linus")
    first = await acme.posted("grace", content="one", group_id=group_id)
    second = await acme.posted("grace", content="two", group_id=group_id)
    third = await acme.posted("grace", content="three", group_id=group_id)

    async def delete(post_id: str, user: str, *roles: str) -> int:
        response = await acme.api.client.delete(
            f"/v1/posts/{post_id}", headers=acme.headers(user, *roles)
        )
        return response.status_code

    assert await delete(first, "linus") == 403
    assert await delete(first, "ada") == 204  # the group's owner
    assert await delete(second, "gus", "guest", "moderator") == 204
    assert await delete(third, "gus", "guest") == 404  # a guest cannot even see it


# --- accepting answers --------------------------------------------------------------------------


async def test_the_asker_accepts_an_answer_once(acme: Company) -> None:
    question = await acme.posted("ada", content="How?", kind="question")
    answer = await acme.posted("grace", content="So", kind="answer", in_reply_to=question)

    async def accept() -> int:
        response = await acme.api.client.post(
            f"/v1/posts/{question}/accept", json={"answer_id": answer}, headers=acme.headers("ada")
        )
        assert response.json()["acceptedAnswer"] == answer
        return response.status_code

    assert (await accept(), await accept()) == (200, 200)
    [accepted] = await acme.published("Accept")
    assert ref_id(accepted.object) == answer
    assert member(accepted, "object")["attributedTo"]["id"] == user_iri(acme.tenant, "grace")
    assert ref_id(accepted.target) == question
    stored = await acme.api.pool.fetchval(
        "SELECT accepted_answer_id FROM posts WHERE id = $1", question
    )
    assert stored == answer


async def test_only_the_asker_accepts_and_only_an_answer_to_that_question(acme: Company) -> None:
    question = await acme.posted("ada", content="How?", kind="question")
    other_question = await acme.posted("ada", content="Why?", kind="question")
    answer = await acme.posted("grace", content="So", kind="answer", in_reply_to=question)
    elsewhere = await acme.posted("grace", content="No", kind="answer", in_reply_to=other_question)
    comment = await acme.posted("grace", content="Hm", in_reply_to=question)

    async def accept(user: str, post_id: str, answer_id: str) -> int:
        response = await acme.api.client.post(
            f"/v1/posts/{post_id}/accept",
            json={"answer_id": answer_id},
            headers=acme.headers(user),
        )
        return response.status_code

    assert await accept("grace", question, answer) == 403
    assert await accept("ada", question, elsewhere) == 422
    assert await accept("ada", question, comment) == 422
    assert await accept("ada", question, new_object_id()) == 404
    assert await accept("grace", answer, answer) == 422  # an answer is not a question
    assert await acme.published("Accept") == []


# --- shares and flags ---------------------------------------------------------------------------


async def test_a_share_announces_the_post_to_its_own_audience(acme: Company) -> None:
    group_id = await acme.group("ada", "internal", "grace")
    post_id = await acme.posted("ada", content="news", group_id=group_id)

    response = await acme.api.client.post(
        f"/v1/posts/{post_id}/shares", headers=acme.headers("grace")
    )

    assert response.status_code == 201
    assert response.json()["type"] == "Announce"
    [announce] = await acme.published("Announce")
    assert announce.id == response.json()["id"]
    assert ref_id(announce.actor) == user_iri(acme.tenant, "grace")
    assert ref_id(announce.object) == post_id
    assert member(announce, "visibility") == "group"
    assert ref_id(announce.target) == group_id


async def test_hidden_followers_only_and_direct_posts_cannot_be_shared(acme: Company) -> None:
    await acme.follow("grace", "ada")
    followers = await acme.posted("ada", content="f", visibility="followers")
    direct = await acme.posted("ada", content="d", to=["grace"])
    hidden = await acme.posted("ada", content="d", to=["linus"])

    async def share(post_id: str) -> int:
        response = await acme.api.client.post(
            f"/v1/posts/{post_id}/shares", headers=acme.headers("grace")
        )
        return response.status_code

    assert [await share(followers), await share(direct), await share(hidden)] == [422, 422, 404]


async def test_a_flag_reports_the_post_to_moderators(acme: Company) -> None:
    post_id = await acme.posted("ada", content="rude words")

    response = await acme.api.client.post(
        f"/v1/posts/{post_id}/flags", json={"reason": " Offensive "}, headers=acme.headers("grace")
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["post_id"], body["reason"]) == (post_id, "Offensive")
    [flag] = await acme.published("Flag")
    assert flag.id == body["id"]
    assert ref_id(flag.actor) == user_iri(acme.tenant, "grace")
    assert member(flag, "object")["content"] == "rude words"
    assert (member(flag, "visibility"), member(flag, "to")) == ("direct", None)
    assert member(flag, "content") == "Offensive"
    row = await acme.api.pool.fetchrow(
        "SELECT reporter_id, reason, rule FROM flags WHERE tenant_id = $1", acme.tenant
    )
    assert row is not None
    assert dict(row) == {"reporter_id": "grace", "reason": "Offensive", "rule": None}


async def test_flags_need_a_reason_and_a_post_the_reporter_can_see(acme: Company) -> None:
    visible = await acme.posted("ada", content="hi")
    hidden = await acme.posted("ada", content="psst", to=["linus"])

    async def flag(post_id: str, reason: str) -> int:
        response = await acme.api.client.post(
            f"/v1/posts/{post_id}/flags", json={"reason": reason}, headers=acme.headers("grace")
        )
        return response.status_code

    assert await flag(visible, "") == 422
    assert await flag(visible, "   ") == 422
    assert await flag(hidden, "spam") == 404
