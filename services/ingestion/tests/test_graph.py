"""The social graph over HTTP: follows, tag follows, blocks and mutes, and their Undos."""

from __future__ import annotations

from typing import Any

import pytest
from ingestion_harness import Api
from join_requests_harness import activities

from canopy_common.events import AS2Object, StrictActivity, ref_id, ref_ids
from canopy_common.iris import tag_iri, user_iri

pytestmark = pytest.mark.integration

G1 = "urn:uuid:0190f3c2-7b1e-7c3a-9f3e-5d2a8b1c4e6f"


def obj(activity: StrictActivity) -> AS2Object:
    assert isinstance(activity.object, AS2Object)
    return activity.object


async def people(api: Api, tenant: str, *users: str) -> None:
    for user in users:
        await api.seed_user(tenant, user)


async def put(api: Api, tenant: str, caller: str, path: str) -> Any:
    return await api.client.put(path, headers=api.headers(tenant, caller))


async def delete(api: Api, tenant: str, caller: str, path: str) -> Any:
    return await api.client.delete(path, headers=api.headers(tenant, caller))


async def follows(api: Api, tenant: str) -> set[tuple[str, str]]:
    rows = await api.pool.fetch(
        "SELECT follower_id, followee_id FROM follows WHERE tenant_id = $1", tenant
    )
    return {(row["follower_id"], row["followee_id"]) for row in rows}


# --- follows --------------------------------------------------------------------------------


async def test_following_a_person_emits_a_follow_addressed_to_them(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")

    response = await put(api, tenant, "ada", "/v1/follows/bob")

    assert response.status_code == 201
    assert response.json()["target"] == "bob"
    assert await follows(api, tenant) == {("ada", "bob")}
    [follow] = await activities(api, tenant)
    assert follow.type == "Follow"
    assert ref_id(follow.actor) == user_iri(tenant, "ada")
    assert (obj(follow).type, obj(follow).id) == ("Person", user_iri(tenant, "bob"))
    assert obj(follow).preferred_username == "bob"
    assert (follow.visibility, ref_ids(follow.to)) == ("direct", [user_iri(tenant, "bob")])


async def test_following_again_changes_nothing_and_emits_nothing(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")
    first = await put(api, tenant, "ada", "/v1/follows/bob")

    again = await put(api, tenant, "ada", "/v1/follows/bob")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert len(await api.outbox(tenant)) == 1


@pytest.mark.parametrize(
    ("caller", "path", "status"),
    [
        pytest.param("ada", "/v1/follows/ada", 422, id="nobody follows themselves"),
        pytest.param(
            "stranger", "/v1/follows/bob", 403, id="a caller who is not a provisioned person"
        ),
        pytest.param("ada", "/v1/mutes/users/nobody", 404, id="muting an unknown person"),
    ],
)
async def test_a_relation_nobody_may_make_is_refused(
    api: Api, tenant: str, caller: str, path: str, status: int
) -> None:
    await people(api, tenant, "ada", "bob")

    response = await put(api, tenant, caller, path)

    assert response.status_code == status


async def test_following_an_unknown_erased_or_other_tenants_person_is_not_found(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada")
    await api.seed_user(tenant, "gone", active=False)
    await api.seed_user(f"{tenant}x", "eve")

    statuses = [
        (await put(api, tenant, "ada", f"/v1/follows/{user}")).status_code
        for user in ("nobody", "gone", "eve")
    ]

    assert statuses == [404, 404, 404]
    assert await api.outbox(tenant) == []


async def test_someone_who_blocked_you_cannot_be_followed(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")
    await put(api, tenant, "bob", "/v1/blocks/ada")

    response = await put(api, tenant, "ada", "/v1/follows/bob")

    assert response.status_code == 403


async def test_someone_you_blocked_cannot_be_followed_until_unblocked(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada", "bob")
    await put(api, tenant, "ada", "/v1/blocks/bob")

    blocked = await put(api, tenant, "ada", "/v1/follows/bob")
    await delete(api, tenant, "ada", "/v1/blocks/bob")
    unblocked = await put(api, tenant, "ada", "/v1/follows/bob")

    assert (blocked.status_code, unblocked.status_code) == (409, 201)


async def test_unfollowing_emits_an_undo_naming_the_follow(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")
    await put(api, tenant, "ada", "/v1/follows/bob")

    response = await delete(api, tenant, "ada", "/v1/follows/bob")

    assert response.status_code == 204
    assert await follows(api, tenant) == set()
    follow, undo = await activities(api, tenant)
    assert undo.type == "Undo"
    assert ref_id(undo.actor) == user_iri(tenant, "ada")
    assert (obj(undo).type, obj(undo).id) == ("Follow", follow.id)
    assert ref_id(obj(undo).object) == user_iri(tenant, "bob")
    assert (undo.visibility, ref_ids(undo.to)) == ("direct", [user_iri(tenant, "bob")])


async def test_unfollowing_someone_you_do_not_follow_is_not_found(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")

    response = await delete(api, tenant, "ada", "/v1/follows/bob")

    assert response.status_code == 404
    assert await api.outbox(tenant) == []


async def test_a_guest_follows_only_people_they_share_a_group_with(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")
    await api.seed_user(tenant, "gus", kind="guest")
    await api.seed_group(tenant, G1, owner="ada")
    await api.seed_member(tenant, G1, "gus")

    shared = await put(api, tenant, "gus", "/v1/follows/ada")
    stranger = await put(api, tenant, "gus", "/v1/follows/bob")

    assert (shared.status_code, stranger.status_code) == (201, 404)


# --- hashtags -------------------------------------------------------------------------------


async def test_following_a_hashtag_stores_it_lower_case_and_emits_a_follow(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada")

    first = await put(api, tenant, "ada", "/v1/tag-follows/%23Release")
    again = await put(api, tenant, "ada", "/v1/tag-follows/release")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["target"] == "release"
    [follow] = await activities(api, tenant)
    assert follow.type == "Follow"
    assert (obj(follow).type, obj(follow).id, obj(follow).name) == (
        "Hashtag",
        tag_iri(tenant, "release"),
        "#release",
    )
    assert (follow.visibility, follow.to) == ("direct", None)


async def test_unfollowing_a_hashtag_emits_an_undo_naming_the_follow(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada")
    await put(api, tenant, "ada", "/v1/tag-follows/release")

    response = await delete(api, tenant, "ada", "/v1/tag-follows/RELEASE")
    again = await delete(api, tenant, "ada", "/v1/tag-follows/release")

    assert (response.status_code, again.status_code) == (204, 404)
    follow, undo = await activities(api, tenant)
    assert (undo.type, obj(undo).id) == ("Undo", follow.id)
    assert ref_id(obj(undo).object) == tag_iri(tenant, "release")


@pytest.mark.parametrize("tag", ["42", "two%20words", "%E2%80%AEevil"])
async def test_a_bad_hashtag_is_refused(api: Api, tenant: str, tag: str) -> None:
    await people(api, tenant, "ada")

    response = await put(api, tenant, "ada", f"/v1/tag-follows/{tag}")

    assert response.status_code == 422
    assert response.json()["field"] == "tag"


# --- blocks ---------------------------------------------------------------------------------


async def test_blocking_ends_the_follows_both_ways_with_their_undos(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob", "cy")
    await put(api, tenant, "ada", "/v1/follows/bob")
    await put(api, tenant, "bob", "/v1/follows/ada")
    await put(api, tenant, "cy", "/v1/follows/ada")
    ada_follows, bob_follows, _ = await activities(api, tenant)

    response = await put(api, tenant, "ada", "/v1/blocks/bob")

    assert response.status_code == 201
    assert await follows(api, tenant) == {("cy", "ada")}
    *_, block, undo_ada, undo_bob = await activities(api, tenant)
    assert block.type == "Block"
    assert ref_id(block.actor) == user_iri(tenant, "ada")
    assert obj(block).id == user_iri(tenant, "bob")
    assert (block.visibility, block.to) == ("direct", None)
    assert (undo_ada.type, obj(undo_ada).id) == ("Undo", ada_follows.id)
    assert ref_id(undo_ada.actor) == user_iri(tenant, "ada")
    assert (undo_bob.type, obj(undo_bob).id) == ("Undo", bob_follows.id)
    assert ref_id(undo_bob.actor) == user_iri(tenant, "bob")
    rows = await api.outbox(tenant)
    assert rows[-1]["key"] == f"{tenant}:bob"  # the Undo follows bob's Follow on his key


async def test_blocking_again_changes_nothing(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")
    await put(api, tenant, "ada", "/v1/blocks/bob")

    again = await put(api, tenant, "ada", "/v1/blocks/bob")

    assert again.status_code == 200
    assert len(await api.outbox(tenant)) == 1


async def test_unblocking_emits_an_undo_naming_the_block(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")
    await put(api, tenant, "ada", "/v1/blocks/bob")

    response = await delete(api, tenant, "ada", "/v1/blocks/bob")
    again = await delete(api, tenant, "ada", "/v1/blocks/bob")

    assert (response.status_code, again.status_code) == (204, 404)
    block, undo = await activities(api, tenant)
    assert (undo.type, obj(undo).type, obj(undo).id) == ("Undo", "Block", block.id)


async def test_nobody_blocks_themselves_or_another_tenants_person(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada")
    await api.seed_user(f"{tenant}x", "eve")

    themselves = await put(api, tenant, "ada", "/v1/blocks/ada")
    foreign = await put(api, tenant, "ada", "/v1/blocks/eve")

    assert (themselves.status_code, foreign.status_code) == (422, 404)


# --- mutes ----------------------------------------------------------------------------------


async def test_muting_emits_an_ignore_and_unmuting_its_undo(api: Api, tenant: str) -> None:
    await people(api, tenant, "ada", "bob")

    muted = await put(api, tenant, "ada", "/v1/mutes/users/bob")
    again = await put(api, tenant, "ada", "/v1/mutes/users/bob")
    unmuted = await delete(api, tenant, "ada", "/v1/mutes/users/bob")
    gone = await delete(api, tenant, "ada", "/v1/mutes/users/bob")

    assert [r.status_code for r in (muted, again, unmuted, gone)] == [201, 200, 204, 404]
    ignore, undo = await activities(api, tenant)
    assert (ignore.type, obj(ignore).id) == ("Ignore", user_iri(tenant, "bob"))
    assert (ignore.visibility, ignore.to) == ("direct", None)
    assert (undo.type, obj(undo).type, obj(undo).id) == ("Undo", "Ignore", ignore.id)


async def test_an_undo_of_a_relation_older_than_activity_ids_still_names_it(
    api: Api, tenant: str
) -> None:
    await people(api, tenant, "ada", "bob")
    await api.pool.execute(
        "INSERT INTO mutes (tenant_id, user_id, muted_id) VALUES ($1, 'ada', 'bob')", tenant
    )

    response = await delete(api, tenant, "ada", "/v1/mutes/users/bob")

    assert response.status_code == 204
    [undo] = await activities(api, tenant)
    assert (obj(undo).type, obj(undo).id, ref_id(obj(undo).object)) == (
        "Ignore",
        None,
        user_iri(tenant, "bob"),
    )
