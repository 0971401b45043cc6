"""Reactions over HTTP: a Like per new reaction, idempotent repeats, an Undo naming the Like."""

from __future__ import annotations

from typing import Any

import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company, member

from canopy_common.events import ref_id
from canopy_common.iris import new_object_id, user_iri

pytestmark = pytest.mark.integration


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    return await company(api, tenant)


async def react(
    acme: Company, user: str, post_id: str, kind: str = "like"
) -> tuple[int, dict[str, Any]]:
    response = await acme.api.client.put(
        f"/v1/posts/{post_id}/reactions/{kind}", headers=acme.headers(user)
    )
    return response.status_code, response.json()


async def unreact(acme: Company, user: str, post_id: str, kind: str = "like") -> int:
    response = await acme.api.client.delete(
        f"/v1/posts/{post_id}/reactions/{kind}", headers=acme.headers(user)
    )
    return response.status_code


async def test_a_reaction_publishes_a_like_of_the_post_with_its_author(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Shipped")

    status, body = await react(acme, "grace", post_id, "celebrate")

    assert status == 201
    assert (body["post_id"], body["kind"]) == (post_id, "celebrate")
    [like] = await acme.published("Like")
    assert like.id == body["activity_id"]
    assert ref_id(like.actor) == user_iri(acme.tenant, "grace")
    assert member(like, "reaction") == "celebrate"
    assert ref_id(like.object) == post_id
    assert member(like, "object")["attributedTo"]["id"] == user_iri(acme.tenant, "ada")
    assert member(like, "visibility") == "internal"
    stored = await acme.api.pool.fetchrow(
        "SELECT kind, activity_id FROM reactions WHERE tenant_id = $1 AND post_id = $2",
        acme.tenant,
        post_id,
    )
    assert stored is not None
    assert (stored["kind"], stored["activity_id"]) == ("celebrate", like.id)


async def test_reacting_again_changes_nothing_and_publishes_nothing(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Shipped")

    first = await react(acme, "grace", post_id)
    again = await react(acme, "grace", post_id)

    assert (first[0], again[0]) == (201, 200)
    assert again[1]["activity_id"] == first[1]["activity_id"]
    assert len(await acme.published("Like")) == 1


async def test_each_kind_of_reaction_is_its_own(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Shipped")

    kinds = ("like", "celebrate", "insightful", "support")
    statuses = [(await react(acme, "grace", post_id, kind))[0] for kind in kinds]

    assert statuses == [201, 201, 201, 201]
    assert [member(like, "reaction") for like in await acme.published("Like")] == list(kinds)


async def test_an_unknown_kind_of_reaction_is_refused(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Shipped")

    response = await acme.api.client.put(
        f"/v1/posts/{post_id}/reactions/love", headers=acme.headers("grace")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert await acme.published("Like") == []


async def test_reacting_to_a_post_you_cannot_see_is_not_found(acme: Company, api: Api) -> None:
    hidden = await acme.posted("ada", content="psst", to=["linus"])
    other = await company(api, f"{acme.tenant}x")
    elsewhere = await other.posted("ada", content="hi", visibility="public")
    internal = await acme.posted("ada", content="employees only")

    assert (await react(acme, "grace", hidden))[0] == 404
    assert (await react(acme, "grace", elsewhere))[0] == 404
    assert (await react(acme, "gus", internal))[0] == 404  # a guest
    assert (await react(acme, "grace", new_object_id()))[0] == 404
    assert await acme.published("Like") == []


async def test_taking_a_reaction_back_publishes_an_undo_naming_the_original_like(
    acme: Company,
) -> None:
    post_id = await acme.posted("ada", content="Shipped")
    _, reacted = await react(acme, "grace", post_id, "insightful")

    status = await unreact(acme, "grace", post_id, "insightful")

    assert status == 204
    [undo] = await acme.published("Undo")
    like = member(undo, "object")
    assert (like["type"], like["id"]) == ("Like", reacted["activity_id"])
    assert like["reaction"] == "insightful"
    assert like["object"]["id"] == post_id
    assert like["object"]["attributedTo"] == user_iri(acme.tenant, "ada")
    assert ref_id(undo.actor) == user_iri(acme.tenant, "grace")
    remaining = await acme.api.pool.fetchval(
        "SELECT count(*) FROM reactions WHERE tenant_id = $1", acme.tenant
    )
    assert remaining == 0


async def test_taking_back_a_reaction_that_is_not_there_is_not_found(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Shipped")
    await react(acme, "grace", post_id, "like")

    other_kind = await unreact(acme, "grace", post_id, "support")
    someone_else = await unreact(acme, "linus", post_id, "like")
    first = await unreact(acme, "grace", post_id, "like")
    twice = await unreact(acme, "grace", post_id, "like")

    assert (other_kind, someone_else, first, twice) == (404, 404, 204, 404)
    assert len(await acme.published("Undo")) == 1


async def test_a_reaction_can_be_taken_back_after_losing_sight_of_the_post(
    acme: Company,
) -> None:
    group_id = await acme.group("ada", "private", "grace")
    post_id = await acme.posted("ada", content="plan", group_id=group_id)
    await react(acme, "grace", post_id)
    await acme.api.pool.execute(
        "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = 'grace'", acme.tenant
    )

    assert await unreact(acme, "grace", post_id) == 204


async def test_reactions_to_a_deleted_post_are_not_found(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Shipped")
    await react(acme, "grace", post_id)
    await acme.api.client.delete(f"/v1/posts/{post_id}", headers=acme.headers("ada"))

    assert (await react(acme, "linus", post_id))[0] == 404
    assert await unreact(acme, "grace", post_id) == 404


async def test_a_like_of_a_group_post_targets_the_group_and_keeps_its_audience(
    acme: Company,
) -> None:
    group_id = await acme.group("ada", "internal", "grace")
    post_id = await acme.posted("ada", content="news", group_id=group_id)

    await react(acme, "grace", post_id)

    [like] = await acme.published("Like")
    assert ref_id(like.target) == group_id
    assert member(like, "visibility") == "group"
