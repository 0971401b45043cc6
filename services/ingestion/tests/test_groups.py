"""Groups over HTTP: creating them, joining, adding, roles, leaving, removing."""

from __future__ import annotations

from typing import Any

import pytest
from ingestion_harness import Api
from join_requests_harness import activities, member_role

from canopy_common.events import AS2Object, StrictActivity, ref_id, ref_ids
from canopy_common.iris import user_iri

pytestmark = pytest.mark.integration

G1 = "urn:uuid:0190f3c2-7b1e-7c3a-9f3e-5d2a8b1c4e6f"  # group ids are IRIs Canopy mints


def obj(activity: StrictActivity) -> AS2Object:
    assert isinstance(activity.object, AS2Object)
    return activity.object


def extra(value: AS2Object) -> dict[str, Any]:
    return value.model_extra or {}


async def put_member(
    api: Api, tenant: str, caller: str, group: str, user: str, role: str | None = None
) -> Any:
    return await api.client.put(
        f"/v1/groups/{group}/members/{user}",
        json={"role": role} if role else None,
        headers=api.headers(tenant, caller),
    )


async def delete_member(api: Api, tenant: str, caller: str, group: str, user: str) -> Any:
    return await api.client.delete(
        f"/v1/groups/{group}/members/{user}", headers=api.headers(tenant, caller)
    )


async def seed_g1(
    api: Api, tenant: str, *others: str, visibility: str = "public", **members: str
) -> None:
    """Group G1 owned by employee ada; ``members`` (by role) and ``others`` (not members) are
    employees too."""
    for user in ("ada", *others, *members):
        await api.seed_user(tenant, user)
    await api.seed_group(tenant, G1, owner="ada", visibility=visibility)
    for user, role in members.items():
        await api.seed_member(tenant, G1, user, role=role)


# --- creating -------------------------------------------------------------------------------


async def test_creating_a_group_makes_the_creator_its_owner(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")

    response = await api.client.post(
        "/v1/groups",
        json={"name": " Platform ", "description": "Runtime\nand tools", "visibility": "internal"},
        headers=api.headers(tenant, "ada"),
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("urn:uuid:")
    assert body | {"id": None} == {
        "id": None,
        "name": "Platform",
        "description": "Runtime\nand tools",
        "visibility": "internal",
        "owner_id": "ada",
        "join_policy": "open",
    }
    assert await member_role(api, tenant, body["id"], "ada") == "owner"
    create, join = await activities(api, tenant)
    assert (create.type, join.type) == ("Create", "Join")
    assert (obj(create).type, obj(create).id) == ("Group", body["id"])
    assert ref_id(create.target) == body["id"]
    assert (create.visibility, join.visibility) == ("internal", "internal")
    assert ref_id(join.actor) == user_iri(tenant, "ada")
    assert extra(join)["role"] == "owner"


async def test_a_private_groups_activities_reach_its_members_only(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")

    await api.client.post(
        "/v1/groups",
        json={"name": "Secret", "visibility": "private"},
        headers=api.headers(tenant, "ada"),
    )

    assert {a.visibility for a in await activities(api, tenant)} == {"group"}


async def test_guests_may_not_create_groups(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "gus", kind="guest")

    response = await api.client.post(
        "/v1/groups",
        json={"name": "Partners", "visibility": "public"},
        headers=api.headers(tenant, "gus", "guest"),
    )

    assert response.status_code == 403
    assert await api.outbox(tenant) == []


async def test_someone_who_is_not_a_provisioned_person_cannot_create_a_group(
    api: Api, tenant: str
) -> None:
    await api.seed_tenant(tenant)

    response = await api.client.post(
        "/v1/groups",
        json={"name": "Platform", "visibility": "public"},
        headers=api.headers(tenant, "stranger"),
    )

    assert response.status_code == 403


async def test_a_group_needs_a_name_and_a_known_visibility(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")
    headers = api.headers(tenant, "ada")

    nameless = await api.client.post(
        "/v1/groups", json={"name": "  ", "visibility": "public"}, headers=headers
    )
    unknown = await api.client.post(
        "/v1/groups", json={"name": "G", "visibility": "secret"}, headers=headers
    )

    assert (nameless.status_code, unknown.status_code) == (422, 422)


async def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_group(
    api: Api, tenant: str
) -> None:
    await api.seed_user(tenant, "ada")
    headers = api.headers(tenant, "ada", **{"Idempotency-Key": "create-platform-1"})
    body = {"name": "Platform", "visibility": "public"}

    first = await api.client.post("/v1/groups", json=body, headers=headers)
    retry = await api.client.post("/v1/groups", json=body, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert await api.pool.fetchval("SELECT count(*) FROM groups WHERE tenant_id = $1", tenant) == 1
    assert len(await api.outbox(tenant)) == 2


# --- joining and adding ---------------------------------------------------------------------


async def test_a_person_joins_a_public_group_once(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, "bob")

    joined = await put_member(api, tenant, "bob", G1, "bob")
    again = await put_member(api, tenant, "bob", G1, "bob")

    assert (joined.status_code, again.status_code) == (201, 200)
    assert joined.json() == {"group_id": G1, "user_id": "bob", "role": "member"}
    [join] = await activities(api, tenant)
    assert join.type == "Join"
    assert ref_id(join.actor) == user_iri(tenant, "bob")
    assert (obj(join).id, ref_id(join.target), join.visibility) == (G1, G1, "public")
    assert extra(join)["role"] == "member"
    stored = await api.pool.fetchval(
        "SELECT activity_id FROM memberships WHERE tenant_id = $1 AND user_id = 'bob'", tenant
    )
    assert stored == join.id


async def test_employees_join_internal_groups_but_guests_cannot_see_them(
    api: Api, tenant: str
) -> None:
    await seed_g1(api, tenant, "bob", visibility="internal")
    await api.seed_user(tenant, "gus", kind="guest")

    employee = await put_member(api, tenant, "bob", G1, "bob")
    guest = await put_member(api, tenant, "gus", G1, "gus")

    assert (employee.status_code, guest.status_code) == (201, 404)


async def test_guests_join_public_groups(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant)
    await api.seed_user(tenant, "gus", kind="guest")

    response = await put_member(api, tenant, "gus", G1, "gus")

    assert response.status_code == 201


async def test_a_private_group_cannot_be_joined_and_is_not_even_found(
    api: Api, tenant: str
) -> None:
    await seed_g1(api, tenant, "bob", visibility="private")

    response = await put_member(api, tenant, "bob", G1, "bob")

    assert response.status_code == 404
    assert await member_role(api, tenant, G1, "bob") is None


async def test_nobody_joins_as_an_admin(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, "bob")

    response = await put_member(api, tenant, "bob", G1, "bob", role="admin")

    assert response.status_code == 403


async def test_a_group_admin_adds_someone_to_a_private_group(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, visibility="private", bob="admin")
    await api.seed_user(tenant, "gus", kind="guest")

    added = await put_member(api, tenant, "bob", G1, "gus")

    assert added.status_code == 201
    assert await member_role(api, tenant, G1, "gus") == "member"
    [add] = await activities(api, tenant)
    assert add.type == "Add"
    assert ref_id(add.actor) == user_iri(tenant, "bob")
    assert (obj(add).type, obj(add).id) == ("Person", user_iri(tenant, "gus"))
    assert ref_id(add.target) == G1
    assert ref_ids(add.to) == [user_iri(tenant, "gus")]
    assert add.visibility == "group"


async def test_a_plain_member_cannot_add_anyone(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, "cy", visibility="private", bob="member")

    response = await put_member(api, tenant, "bob", G1, "cy")

    assert response.status_code == 403


async def test_adding_an_unknown_or_another_tenants_person_is_not_found(
    api: Api, tenant: str
) -> None:
    await api.seed_user(tenant, "ada")
    await api.seed_group(tenant, G1, owner="ada")
    await api.seed_user(f"{tenant}x", "eve")

    unknown = await put_member(api, tenant, "ada", G1, "nobody")
    foreign = await put_member(api, tenant, "ada", G1, "eve")

    assert (unknown.status_code, foreign.status_code) == (404, 404)


async def test_another_tenants_group_is_not_found(api: Api, tenant: str) -> None:
    other = f"{tenant}x"
    await api.seed_user(other, "eve")
    await api.seed_group(other, G1, owner="eve")
    await api.seed_user(tenant, "bob")

    joined = await put_member(api, tenant, "bob", G1, "bob")
    left = await delete_member(api, tenant, "bob", G1, "eve")

    assert (joined.status_code, left.status_code) == (404, 404)


# --- roles ----------------------------------------------------------------------------------


async def test_an_owner_changes_a_members_role_with_an_update(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, bob="member")

    response = await put_member(api, tenant, "ada", G1, "bob", role="owner")

    assert response.status_code == 200
    assert await member_role(api, tenant, G1, "bob") == "owner"
    [update] = await activities(api, tenant)
    assert update.type == "Update"
    relationship = obj(update)
    assert relationship.type == "Relationship"
    assert (extra(relationship)["role"], relationship.model_dump()["subject"]["id"]) == (
        "owner",
        user_iri(tenant, "bob"),
    )
    assert ref_id(update.target) == G1


async def test_admins_cannot_make_owners(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, bob="admin", cy="member")

    response = await put_member(api, tenant, "bob", G1, "cy", role="owner")

    assert response.status_code == 403


async def test_the_last_owner_cannot_step_down(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant)

    response = await put_member(api, tenant, "ada", G1, "ada", role="member")

    assert response.status_code == 409
    assert "last owner" in response.json()["detail"]


# --- leaving and removing -------------------------------------------------------------------


async def test_a_member_leaves_with_a_leave(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, visibility="private", bob="member")

    left = await delete_member(api, tenant, "bob", G1, "bob")
    again = await delete_member(api, tenant, "bob", G1, "bob")

    assert (left.status_code, again.status_code) == (204, 404)
    [leave] = await activities(api, tenant)
    assert (leave.type, obj(leave).id, leave.visibility) == ("Leave", G1, "group")
    assert ref_id(leave.actor) == user_iri(tenant, "bob")


async def test_the_last_owner_cannot_leave_until_there_is_another(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, bob="owner")

    await delete_member(api, tenant, "bob", G1, "bob")
    refused = await delete_member(api, tenant, "ada", G1, "ada")

    assert refused.status_code == 409
    assert await member_role(api, tenant, G1, "ada") == "owner"


async def test_an_admin_removes_a_member_with_a_remove(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, bob="member")

    response = await delete_member(api, tenant, "ada", G1, "bob")

    assert response.status_code == 204
    [remove] = await activities(api, tenant)
    assert remove.type == "Remove"
    assert ref_id(remove.actor) == user_iri(tenant, "ada")
    assert (obj(remove).id, ref_id(remove.target)) == (user_iri(tenant, "bob"), G1)
    assert ref_ids(remove.to) == [user_iri(tenant, "bob")]


async def test_a_member_cannot_remove_someone_else(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, bob="member", cy="member")

    response = await delete_member(api, tenant, "bob", G1, "cy")

    assert response.status_code == 403
    assert await member_role(api, tenant, G1, "cy") == "member"


async def test_removing_someone_who_is_not_a_member_is_not_found(api: Api, tenant: str) -> None:
    await seed_g1(api, tenant, "bob")

    response = await delete_member(api, tenant, "ada", G1, "bob")

    assert response.status_code == 404
